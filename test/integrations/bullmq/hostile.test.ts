/**
 * Jobs whose context cannot be read - garbage, oversize, a key version without migration, a
 * missing signature, entries a worker does not accept - on a real BullMQ queue: each policy does
 * what it says, and no other job is affected.
 */
import { FlowProducer, type Job, Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  initialize,
  scope,
  scopeChain,
  set,
  tryGet,
} from '../../../src/index.js';
import {
  addBulkWithContext,
  addFlowWithContext,
  addWithContext,
  withJobContext,
} from '../../../src/integrations/bullmq/index.js';
import { wireBytes } from '../../wire/support/wire-bytes.js';
import { builder, connection, plan, queueName, requestId, sleep, tenant } from './support/setup.js';

beforeAll(() => initialize(builder));

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** Bad contexts as another (broken, older or hostile) producer would store them. */
const BAD: Record<string, { readonly context: unknown; readonly code: string }> = {
  garbage: { context: 'this is not a context!', code: 'DECODE_FAILED' },
  truncated: {
    context: base64url(wireBytes(['a'], [{ name: 'request_id', version: 1, value: 'r' }])).slice(
      0,
      12,
    ),
    code: 'DECODE_FAILED',
  },
  oversize: { context: 'A'.repeat(200_000), code: 'CONTEXT_TOO_LARGE' },
  'old version without migration': {
    context: base64url(wireBytes(['old'], [{ name: 'plan', version: 1, value: 'gold' }])),
    code: 'DECODE_FAILED',
  },
  'not a string': { context: 12345, code: 'DECODE_FAILED' },
};

interface Run {
  readonly id: string;
  readonly requestId: string | undefined;
  readonly chain: string[];
}

function setup(options: Parameters<typeof withJobContext>[1], good: number, attempts = 1) {
  const q = new Queue(queueName('hostile'), { connection });
  const runs: Run[] = [];
  const reported: { code: string; job: string }[] = [];
  const failed: { id: string; error: Error }[] = [];
  let settle!: () => void;
  const done = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const expected = good + Object.keys(BAD).length * attempts;
  let outcomes = 0;
  const count = () => {
    outcomes++;
    if (outcomes === expected) settle();
  };
  const worker = new Worker(
    q.name,
    withJobContext(
      async (job: Job) => {
        await sleep(Math.random() * 5);
        runs.push({ id: job.data.id, requestId: tryGet(requestId), chain: scopeChain() });
      },
      {
        ...options,
        onError: (error: DContextError, job: Job) =>
          reported.push({ code: error.code, job: job.data.id }),
      },
    ),
    { connection, concurrency: 10 },
  );
  worker.on('completed', count);
  worker.on('failed', (job, error) => {
    failed.push({ id: job?.data.id, error });
    count();
  });
  closers.push(async () => {
    await worker.close();
    await q.obliterate({ force: true });
    await q.close();
  });

  async function addAll(): Promise<void> {
    const adds: Promise<unknown>[] = [];
    for (let i = 0; i < good; i++) {
      adds.push(
        scope('request', async () => {
          set(requestId, `good-${i}`);
          await sleep(Math.random() * 3);
          await addWithContext(q, 'good', { id: `good-${i}` });
        }),
      );
    }
    for (const [name, { context }] of Object.entries(BAD)) {
      adds.push(q.add('bad', { id: name }, { dcontext: context, attempts } as object));
    }
    await Promise.all(adds);
  }
  return { q, runs, reported, failed, done, addAll };
}

function goodRunsMatch(runs: readonly Run[], queue: string): boolean {
  return runs
    .filter((r) => r.id.startsWith('good-'))
    .every((r) => r.requestId === r.id && r.chain.join('>') === `request>job:${queue}`);
}

describe("onInvalid: 'drop' (default)", () => {
  it('runs each bad job with no inbound entries, reports it once, and leaves the good jobs alone', async () => {
    const { q, runs, reported, failed, done, addAll } = setup({}, 40);
    await addAll();
    await done;
    expect(failed).toEqual([]);
    expect(runs).toHaveLength(40 + Object.keys(BAD).length);
    expect(goodRunsMatch(runs, q.name)).toBe(true);
    for (const name of Object.keys(BAD)) {
      expect(runs.find((r) => r.id === name)).toEqual({
        id: name,
        requestId: undefined,
        chain: [`job:${q.name}`],
      });
    }
    expect(reported.sort((a, b) => a.job.localeCompare(b.job))).toEqual(
      Object.entries(BAD)
        .map(([job, { code }]) => ({ code, job }))
        .sort((a, b) => a.job.localeCompare(b.job)),
    );
  });
});

describe("onInvalid: 'fail'", () => {
  it('fails each bad job with its DContextError (BullMQ retries it), never runs it, and runs the good jobs', async () => {
    const { q, runs, reported, failed, done, addAll } = setup({ onInvalid: 'fail' }, 40, 2);
    await addAll();
    await done;
    expect(runs).toHaveLength(40);
    expect(goodRunsMatch(runs, q.name)).toBe(true);
    // Two attempts each: BullMQ's retry rules applied to the DContextError.
    expect(failed).toHaveLength(Object.keys(BAD).length * 2);
    for (const { id, error } of failed) {
      expect(error).toMatchObject({ name: 'DContextError', code: BAD[id]?.code });
    }
    const stored = await q.getFailed();
    expect(stored.map((job) => job.data.id).sort()).toEqual(Object.keys(BAD).sort());
    expect(stored.every((job) => job.attemptsMade === 2)).toBe(true);
    expect(reported).toHaveLength(Object.keys(BAD).length * 2);
  });
});

describe('accept and verifyKeys', () => {
  it('drops the entries a worker does not accept, reports each as NOT_ACCEPTED, and runs with the rest', async () => {
    const q = new Queue(queueName('accept'), { connection });
    const reported: string[] = [];
    let resolve!: (value: unknown) => void;
    const seen = new Promise((r) => {
      resolve = r;
    });
    const worker = new Worker(
      q.name,
      withJobContext(
        async () =>
          resolve({ requestId: tryGet(requestId), tenant: tryGet(tenant), plan: tryGet(plan) }),
        { accept: [requestId], onError: (error) => reported.push(`${error.code} ${error.key}`) },
      ),
      { connection },
    );
    closers.push(async () => {
      await worker.close();
      await q.obliterate({ force: true });
      await q.close();
    });
    await scope('request', async () => {
      set(requestId, 'r-1');
      set(tenant, 'acme');
      set(plan, 'gold');
      await addWithContext(q, 'work', {});
    });
    expect(await seen).toEqual({ requestId: 'r-1', tenant: undefined, plan: undefined });
    expect(reported.sort()).toEqual(['NOT_ACCEPTED plan', 'NOT_ACCEPTED tenant']);
  });

  it('with verifyKeys, an unsigned context is BAD_SIGNATURE and a signed one runs', async () => {
    const q = new Queue(queueName('signed'), { connection });
    const key = 'a-signing-key-of-32-bytes-length';
    const seen: unknown[] = [];
    const reported: string[] = [];
    let count = 0;
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const worker = new Worker(
      q.name,
      withJobContext(
        async () => {
          seen.push(tryGet(requestId));
          if (++count === 2) resolve();
        },
        { verifyKeys: [key], onError: (error) => reported.push(error.code) },
      ),
      { connection, concurrency: 1 },
    );
    closers.push(async () => {
      await worker.close();
      await q.obliterate({ force: true });
      await q.close();
    });
    await scope('request', async () => {
      set(requestId, 'unsigned');
      await addWithContext(q, 'work', {});
      set(requestId, 'signed');
      await addWithContext(q, 'work', {}, undefined, { signingKey: key });
    });
    await done;
    expect(seen).toEqual([undefined, 'signed']);
    expect(reported).toEqual(['BAD_SIGNATURE']);
  });
});

describe('a careless caller', () => {
  it('a bulk or a flow holding a job that is not an object is INVALID_ARGUMENT and adds nothing', async () => {
    const q = new Queue(queueName('careless'), { connection });
    const flows = new FlowProducer({ connection });
    closers.push(async () => {
      await flows.close();
      await q.obliterate({ force: true });
      await q.close();
    });
    const invalid = { code: 'INVALID_ARGUMENT' };
    await expect(
      addBulkWithContext(q, [{ name: 'ok', data: {} }, null] as never),
    ).rejects.toMatchObject(invalid);
    await expect(addBulkWithContext(q, [5] as never)).rejects.toMatchObject(invalid);
    for (const children of ['x', [null], [{ name: 'c', queueName: q.name, children: 3 }]]) {
      await expect(
        addFlowWithContext(flows, { name: 'p', queueName: q.name, children } as never),
      ).rejects.toMatchObject(invalid);
    }
    expect(await q.count()).toBe(0);
  });

  it('verifyKeys that are not keys are INVALID_ARGUMENT when wrapping, not a refusal of every job', () => {
    for (const verifyKeys of [[1], [''], [null], [{}]]) {
      expect(() => withJobContext(async () => {}, { verifyKeys: verifyKeys as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('processors that throw, return plain values or set keys leak nothing into 200 interleaved jobs', async () => {
    const q = new Queue(queueName('leak'), { connection });
    const mismatches: string[] = [];
    const outcomes: string[] = [];
    let finished!: () => void;
    const allDone = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const total = 200;
    const worker = new Worker(
      q.name,
      withJobContext((job: Job) => {
        const id = job.data.id as number;
        const check = () => {
          if (tryGet(requestId) !== `r-${id}` || tryGet(tenant) !== undefined) {
            mismatches.push(`${id}: ${tryGet(requestId)} ${tryGet(tenant)}`);
          }
        };
        check();
        if (id % 4 === 0) {
          set(tenant, `leak-${id}`); // only this job's scope
          throw new Error(`boom ${id}`);
        }
        if (id % 4 === 1) return `plain ${id}`; // not a promise
        return (async () => {
          await sleep(Math.random() * 5);
          check();
          set(tenant, `leak-${id}`);
          if (id % 4 === 2) throw new Error(`late boom ${id}`);
          return `async ${id}`;
        })();
      }),
      { connection, concurrency: 20 },
    );
    const count = () => {
      if (outcomes.length === total) finished();
    };
    worker.on('completed', (job, result) => {
      outcomes.push(`${job.data.id} ${result}`);
      count();
    });
    worker.on('failed', (job, error) => {
      outcomes.push(`${job?.data.id} ${error.message}`);
      count();
    });
    closers.push(async () => {
      await worker.close();
      await q.obliterate({ force: true });
      await q.close();
    });
    await Promise.all(
      Array.from({ length: total }, (_, id) =>
        scope('request', async () => {
          set(requestId, `r-${id}`);
          await sleep(Math.random() * 10);
          await addWithContext(q, 'work', { id });
        }),
      ),
    );
    await allDone;
    expect(mismatches).toEqual([]);
    const expected = Array.from({ length: total }, (_, id) =>
      id % 4 === 0
        ? `${id} boom ${id}`
        : id % 4 === 1
          ? `${id} plain ${id}`
          : id % 4 === 2
            ? `${id} late boom ${id}`
            : `${id} async ${id}`,
    );
    expect(outcomes.sort()).toEqual(expected.sort());
  });
});
