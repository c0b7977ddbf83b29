import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  deserialize,
  get,
  initialize,
  isDContextError,
  RegistryBuilder,
  scope,
  set,
} from '../../src/index.js';
import { errorContext, runWithContext, type TaskPool } from '../../src/worker/index.js';
import { sleep } from '../support/codes.js';
import { assertBuilt, fixture } from './support/built.js';

assertBuilt();

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const mainOnly = builder.register<string>('main_only');
const tenant = builder.registerLocal<{ id: number }>('tenant_handle');
const workerOnly = builder.register<{ n: number }>('worker_only');
initialize(builder);

interface Echo {
  n: number;
  top: unknown;
  sync: unknown;
  chain: string[];
  afterAwait: unknown;
  tenant: unknown;
  active: boolean;
}

const filename = fixture('pool-task.mjs').href;

describe('runWithContext: 200 concurrent HTTP requests on a pool of 3 workers', () => {
  // Several tasks per worker at once: they interleave on every await inside the worker.
  const pool = new Piscina({ filename, minThreads: 3, maxThreads: 3, concurrentTasksPerWorker: 4 });
  const server = http.createServer((req, res) =>
    scope('http', async () => {
      const id = String(req.headers['x-request-id']);
      set(requestId, id);
      set(mainOnly, `main-${id}`);
      set(tenant, { id: Number(id.slice(2)) });
      const echoes = await Promise.all(
        [0, 1, 2].map((n) =>
          scope(`task-${n}`, () =>
            runWithContext<Echo>(pool, { n, delay: (Number(id.slice(2)) + n) % 4 }),
          ),
        ),
      );
      res.end(JSON.stringify({ handlerSaw: get(requestId), echoes }));
    }),
  );
  let port = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await pool.destroy();
  });

  function request(id: string): Promise<{ handlerSaw: string; echoes: Echo[] }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, headers: { 'x-request-id': id } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body)));
      });
      req.on('error', reject);
    });
  }

  it('gives every task the context of the request that submitted it: zero mismatches', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `r-${i}`);
    const responses = await Promise.all(ids.map(request));
    const mismatches: unknown[] = [];
    responses.forEach((response, i) => {
      const id = ids[i]!;
      if (response.handlerSaw !== id) mismatches.push({ id, handler: response.handlerSaw });
      for (const echo of response.echoes) {
        const expected = {
          n: echo.n,
          top: id,
          sync: id,
          chain: ['http', `task-${echo.n}`],
          afterAwait: id,
          tenant: { id: i },
          active: true,
        };
        if (JSON.stringify(echo) !== JSON.stringify(expected)) mismatches.push({ id, echo });
      }
    });
    expect(responses.flatMap((r) => r.echoes)).toHaveLength(600);
    expect(mismatches).toEqual([]);
  });
});

describe('runWithContext: contexts that differ from one sent before in a few keys', () => {
  const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 4 });
  afterAll(() => pool.destroy());

  it('gives every task its own context when each is sent as a delta: zero mismatches', async () => {
    const results = await scope('http', () => {
      set(mainOnly, 'shared by all');
      set(requestId, 'r-base');
      return Promise.all(
        Array.from({ length: 300 }, (_, i) => {
          // A child scope per task: its own request id over the shared values (and, for every
          // third task, a scope name of its own).
          const task = async () => {
            set(requestId, `r-${i}`);
            const [echo, wire] = await Promise.all([
              runWithContext<Echo>(pool, { n: i, delay: i % 3 }),
              runWithContext<Uint8Array>(pool, { kind: 'forward' }),
            ]);
            return { i, echo, onward: deserialize(wire) };
          };
          return i % 3 === 0 ? scope(`task-${i}`, task) : scope(task);
        }),
      );
    });
    const mismatches = results.filter(({ i, echo, onward }) => {
      const chain = i % 3 === 0 ? ['http', `task-${i}`] : ['http'];
      return (
        echo.top !== `r-${i}` ||
        echo.sync !== `r-${i}` ||
        echo.afterAwait !== `r-${i}` ||
        JSON.stringify(echo.chain) !== JSON.stringify(chain) ||
        onward.get(requestId) !== `r-${i}` ||
        onward.get(mainOnly) !== 'shared by all' ||
        JSON.stringify(onward.scopeChain) !== JSON.stringify(chain)
      );
    });
    expect(results).toHaveLength(300);
    expect(mismatches).toEqual([]);
  });
});

describe('runWithContext: failures', () => {
  const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
  afterAll(() => pool.destroy());

  it('a task that throws or a worker that exits mid-task does not disturb the other tasks', async () => {
    const kinds = [
      'echo',
      'throw',
      'echo',
      'exit',
      'echo',
      'echo',
      'throw',
      'echo',
      'exit',
      'echo',
    ];
    const outcomes = await Promise.allSettled(
      kinds.map((kind, n) =>
        scope('request', () => {
          set(requestId, `r-${n}`);
          return runWithContext<Echo>(pool, { kind, n, delay: n % 3 });
        }),
      ),
    );
    outcomes.forEach((outcome, n) => {
      const kind = kinds[n];
      if (kind === 'echo') {
        expect(outcome.status).toBe('fulfilled');
        expect((outcome as PromiseFulfilledResult<Echo>).value).toMatchObject({
          n,
          top: `r-${n}`,
          afterAwait: `r-${n}`,
        });
        return;
      }
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as Error;
      if (kind === 'throw') expect(error.message).toBe(`task ${n} failed`);
      // The failure says which request it belonged to.
      expect(errorContext(error)).toMatchObject({
        scopeChain: ['request'],
        values: { request_id: `r-${n}` },
      });
      expect(errorContext(error)?.snapshot?.get(requestId)).toBe(`r-${n}`);
    });
    // The pool still serves tasks, in the right context, after workers died.
    const after = await scope(() => {
      set(requestId, 'r-after');
      return runWithContext<Echo>(pool, { n: 99 });
    });
    expect(after.top).toBe('r-after');
  });

  it('rejects with NOT_CLONEABLE naming the key, and submits nothing, for a local value that cannot be cloned', async () => {
    const submitted: unknown[] = [];
    const fakePool: TaskPool = {
      run: async (task) => {
        submitted.push(task);
      },
    };
    const result = scope(() => {
      set(tenant, { id: 1, socket: () => {} } as never);
      return runWithContext(fakePool, { n: 1 });
    });
    const error = await result.catch((e: unknown) => e);
    expect(isDContextError(error, 'NOT_CLONEABLE')).toBe(true);
    expect((error as { key?: string }).key).toBe('tenant_handle');
    expect(submitted).toEqual([]);
  });
});

describe('runWithContext: registries and plain tasks', () => {
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1 });
  afterAll(() => pool.destroy());

  it('forwards keys the worker has not registered in whatever the task sends on', async () => {
    const wire = await scope('request', () => {
      set(requestId, 'r-forward');
      set(mainOnly, 'only known here');
      return runWithContext<Uint8Array>(pool, { kind: 'forward' });
    });
    const onward = deserialize(wire);
    expect(onward.get(requestId)).toBe('r-forward');
    expect(onward.get(mainOnly)).toBe('only known here');
    expect(onward.scopeChain).toEqual(['request']);
  });

  it("keeps a task's writes out of the next task of the same context", async () => {
    const [written, next] = await scope(async () => {
      set(requestId, 'r-shared');
      set(tenant, { id: 4 });
      return [
        await runWithContext(pool, { kind: 'write' }),
        await runWithContext<Echo>(pool, { n: 2 }),
      ] as const;
    });
    expect(written).toBe('r-written-by-task');
    expect(next).toMatchObject({ top: 'r-shared', afterAwait: 'r-shared' });
    // Local values arrive as a fresh clone with every task.
    expect(next.tenant).toEqual({ id: 4 });
  });

  it('moves a task made with Piscina.move instead of copying it', async () => {
    const bytes = new Uint8Array(1024);
    const seen = await scope(() => {
      set(requestId, 'r-moved');
      return runWithContext(pool, Piscina.move(bytes));
    });
    expect(seen).toEqual({ length: 1024, top: 'r-moved' });
    expect(bytes.byteLength).toBe(0); // its buffer went to the worker
  });

  it('passes the run options to the pool', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await runWithContext(pool, { n: 1 }, { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('AbortError');
  });

  it('runs a task submitted with a plain pool.run, without context', async () => {
    const echo = await scope(() => {
      set(requestId, 'r-not-sent');
      return pool.run({ n: 5 }) as Promise<Echo>;
    });
    expect(echo).toMatchObject({ n: 5, top: undefined, chain: [], active: false });
  });
});

describe('runWithContext: errors keep what they are', () => {
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1 });
  const syncPool = new Piscina({ filename: fixture('sync-task.mjs').href, maxThreads: 1 });
  afterAll(() => Promise.all([pool.destroy(), syncPool.destroy()]));

  for (const [label, target] of [
    ['an async task', () => pool],
    ['a synchronous task', () => syncPool],
  ] as const) {
    it(`rejects with the DContextError ${label} threw: same code, key, message and stack`, async () => {
      const error = await scope('request', () => {
        set(requestId, 'r-dcontext-error');
        return runWithContext(target(), { kind: 'dcontext-error', n: 1 }).catch((e: unknown) => e);
      });
      expect(isDContextError(error, 'NOT_REGISTERED')).toBe(true);
      expect((error as DContextError).key).toBe('missing_key');
      expect((error as Error).message).toMatch(/'missing_key' is not registered/);
      // The stack is the worker's: it names the task file.
      expect((error as Error).stack).toMatch(/(pool|sync)-task\.mjs/);
      expect(errorContext(error)?.values).toMatchObject({ request_id: 'r-dcontext-error' });
    });
  }
});

describe('runWithContext: a task file without withTaskContext', () => {
  it('rejects with TASK_NOT_WRAPPED naming the fix instead of passing the envelope on', async () => {
    const pool = new Piscina({ filename: fixture('plain-task.mjs').href, maxThreads: 1 });
    try {
      const error = await runWithContext(pool, { n: 1 }).catch((e: unknown) => e);
      expect(isDContextError(error, 'TASK_NOT_WRAPPED')).toBe(true);
      expect((error as Error).message).toContain('export default withTaskContext(fn)');
      expect((error as Error).message).toContain("'dcontext/worker'");
      // Every task is checked until one result came back from a wrapped function.
      const again = await runWithContext(pool, { n: 2 }).catch((e: unknown) => e);
      expect(isDContextError(again, 'TASK_NOT_WRAPPED')).toBe(true);
    } finally {
      await pool.destroy();
    }
  });

  it('checks a pool until its first result, then sends tasks unmarked', async () => {
    const tags: unknown[] = [];
    const pool = new Piscina({ filename, maxThreads: 1 });
    const spy: TaskPool = {
      run: (task, options) => {
        tags.push((task as unknown[])[0]);
        return pool.run(task, options);
      },
    };
    try {
      expect(await runWithContext(spy, { n: 1 })).toMatchObject({ n: 1 });
      expect(await runWithContext(spy, { n: 2 })).toMatchObject({ n: 2 });
      expect(tags).toEqual(['@@dcontext:checked', '@@dcontext']);
    } finally {
      await pool.destroy();
    }
  });

  it('checks each export a task selects on its own: a wrapped default says nothing of the others', async () => {
    const pool = new Piscina({ filename, maxThreads: 1 });
    try {
      expect(await runWithContext(pool, { n: 1 })).toMatchObject({ n: 1 });
      const error = await runWithContext(pool, { n: 2 }, { name: 'unwrapped' }).catch(
        (e: unknown) => e,
      );
      expect(isDContextError(error, 'TASK_NOT_WRAPPED')).toBe(true);
    } finally {
      await pool.destroy();
    }
  });

  it('moves a result made with Piscina.move back from a checked task', async () => {
    const pool = new Piscina({ filename, maxThreads: 1 });
    try {
      const result = await runWithContext<Uint8Array>(pool, { kind: 'move-back', length: 32 });
      expect(result).toBeInstanceOf(Uint8Array);
      expect(result.byteLength).toBe(32);
    } finally {
      await pool.destroy();
    }
  });
});

describe('runWithContext: each task keeps its own context', () => {
  it('gives every task of a worker that exited its own context on the shared error', async () => {
    const pool = new Piscina({ filename, maxThreads: 1, concurrentTasksPerWorker: 16 });
    try {
      await runWithContext(pool, { n: 0 }); // checked, and the worker started
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, (_, n) =>
          scope(`request-${n}`, () => {
            set(requestId, `r-${n}`);
            return runWithContext(pool, {
              kind: n === 15 ? 'exit' : 'echo',
              n,
              delay: n === 15 ? 20 : 500,
            });
          }),
        ),
      );
      const errors = outcomes.map((o) => (o as PromiseRejectedResult).reason as Error);
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      errors.forEach((error, n) => {
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toBe('worker exited with code: 3');
        expect(error.stack).toContain('worker exited with code: 3');
        expect(errorContext(error)).toMatchObject({
          scopeChain: [`request-${n}`],
          values: { request_id: `r-${n}` },
        });
      });
    } finally {
      await pool.destroy();
    }
  });

  it('sends the values a queued task had when it was submitted, not later in-place changes', async () => {
    // One task at a time: the others wait in Piscina's queue, which clones a task only when a
    // worker takes it. The contexts differ from the first one sent in one key: sent as deltas.
    const pool = new Piscina({ filename, maxThreads: 1, concurrentTasksPerWorker: 1 });
    try {
      const count = 400;
      const results = await scope('http', () => {
        set(requestId, 'r-shared');
        set(mainOnly, 'shared');
        set(workerOnly, { n: -1 });
        return Promise.all(
          Array.from({ length: count }, (_, n) =>
            scope(async () => {
              const value = { n };
              const local = { id: n };
              set(workerOnly, value);
              set(tenant, local);
              const pending = runWithContext<{ n: number; workerOnly: unknown; tenant: unknown }>(
                pool,
                { kind: 'values', n },
              );
              await sleep(n % 5);
              value.n = -2;
              local.id = -2;
              return pending;
            }),
          ),
        );
      });
      const differing = results.filter(
        (r) =>
          JSON.stringify(r.workerOnly) !== JSON.stringify({ n: r.n }) ||
          JSON.stringify(r.tenant) !== JSON.stringify({ id: r.n }),
      );
      expect(differing).toEqual([]);
    } finally {
      await pool.destroy();
    }
  });
});
