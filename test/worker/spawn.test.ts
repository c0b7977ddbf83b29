import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getEnvironmentData, Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import {
  type DContextError,
  deserialize,
  initialize,
  isDContextError,
  RegistryBuilder,
  scope,
  set,
  toDebugJSON,
} from '../../src/index.js';
import { errorContext, spawnWithContext } from '../../src/worker/index.js';
import { assertBuilt, fixture } from './support/built.js';

assertBuilt();

// Counts the workers constructed, to prove a failed spawn starts none.
const constructed = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class CountingWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args);
      constructed.count++;
    }
  }
  return { ...original, Worker: CountingWorker };
});

// The workers register request_id, tenant_handle (local) and worker_only: not the same registry.
const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const mainOnly = builder.register<{ plan: string }>('main_only');
const tenant = builder.registerLocal<{ id: number; tags: Set<string> }>('tenant_handle');
const mainLocal = builder.registerLocal<string>('main_local');
initialize(builder);

interface Report {
  workerData: unknown;
  argv: string[];
  execArgv: string[];
  top: unknown;
  sync: unknown;
  async: unknown;
  tenant: unknown;
  chain: string[];
  syncChain: string[];
  active: boolean;
  writeError: string | null;
  inScope: { value: unknown; chain: string[] };
  wire: Uint8Array;
}

function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', (message: T) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function inRequest<T>(fn: () => T): T {
  return scope('http', () => {
    set(requestId, 'r-spawn');
    set(mainOnly, { plan: 'pro' });
    set(tenant, { id: 7, tags: new Set(['eu']) });
    set(mainLocal, 'not registered by the worker');
    return scope('job', fn);
  });
}

describe('spawnWithContext', () => {
  it('starts the worker in the spawner context, in both stores, from its first line', async () => {
    const workerData = { job: 42, nested: { list: [1, 2] } };
    const report = await inRequest(() =>
      firstMessage<Report>(spawnWithContext(fixture('spawn-reader.mjs'), { workerData })),
    );
    expect(report).toMatchObject({
      top: 'r-spawn',
      sync: 'r-spawn',
      async: 'r-spawn',
      chain: ['http', 'job'],
      syncChain: ['http', 'job'],
      tenant: { id: 7, tags: new Set(['eu']) },
    });
    // The worker's own workerData, unchanged and unwrapped.
    expect(report.workerData).toEqual(workerData);
  });

  it('makes the context a read-only root that scopes build on', async () => {
    const report = await inRequest(() =>
      firstMessage<Report>(spawnWithContext(fixture('spawn-reader.mjs'))),
    );
    expect(report.active).toBe(false);
    expect(report.writeError).toBe('NO_ACTIVE_SCOPE');
    expect(report.inScope).toEqual({ value: 'r-worker', chain: ['http', 'job', 'worker'] });
  });

  it("leaves the worker's argv, execArgv and workerData to the caller", async () => {
    const spawned = await inRequest(() =>
      firstMessage<Report>(
        spawnWithContext(fixture('spawn-reader.mjs'), { argv: ['--flag'], execArgv: [] }),
      ),
    );
    const plain = await firstMessage<Report>(
      new Worker(fixture('spawn-reader.mjs'), { argv: ['--flag'], execArgv: [] }),
    );
    expect(spawned.argv).toEqual(plain.argv);
    expect(spawned.execArgv).toEqual(plain.execArgv);
    expect(spawned.workerData).toEqual(plain.workerData);
  });

  it('passes keys the worker has not registered through, as the wire format does', async () => {
    const report = await inRequest(() =>
      firstMessage<Report>(spawnWithContext(fixture('spawn-reader.mjs'))),
    );
    // Back in a process that knows main_only, the worker's onward context still carries it.
    const onward = deserialize(report.wire);
    expect(onward.get(mainOnly)).toEqual({ plan: 'pro' });
    expect(onward.get(requestId)).toBe('r-spawn');
    expect(onward.scopeChain).toEqual(['http', 'job']);
    // Local-only values never go on the wire, not even onward.
    expect(toDebugJSON(onward).entries.map((entry) => entry.key)).toEqual([
      'request_id',
      'main_only',
    ]);
  });

  it('starts a worker outside any scope with an empty root', async () => {
    const report = await firstMessage<Report>(spawnWithContext(fixture('spawn-reader.mjs')));
    expect(report).toMatchObject({ top: undefined, tenant: undefined, chain: [] });
  });

  it('does not hand the context to workers started later with a plain new Worker', async () => {
    await inRequest(() => firstMessage<Report>(spawnWithContext(fixture('spawn-reader.mjs'))));
    expect(getEnvironmentData('dcontext:spawn-context')).toBeUndefined();
    const plain = await inRequest(() =>
      firstMessage<Report>(new Worker(fixture('spawn-reader.mjs'))),
    );
    expect(plain).toMatchObject({ top: undefined, chain: [] });
  });

  it('hands the context on from worker to worker, and only through spawnWithContext', async () => {
    const report = await inRequest(() =>
      firstMessage<{ withContext: unknown; plain: unknown }>(
        spawnWithContext(fixture('nested.mjs')),
      ),
    );
    expect(report).toEqual({
      withContext: { top: 'r-nested', chain: ['http', 'job', 'nested'] },
      plain: { top: undefined, chain: [] },
    });
  });

  it('throws NOT_CLONEABLE naming the key, and starts nothing, for a local value that cannot be cloned', () => {
    const before = constructed.count;
    let thrown: unknown;
    scope(() => {
      set(tenant, { id: 1, tags: new Set(), callback: () => {} } as never);
      try {
        spawnWithContext(fixture('spawn-reader.mjs'));
      } catch (error) {
        thrown = error;
      }
    });
    expect(isDContextError(thrown, 'NOT_CLONEABLE')).toBe(true);
    expect((thrown as { key?: string }).key).toBe('tenant_handle');
    expect(constructed.count).toBe(before);
    // The count does see spawns that go through.
    void spawnWithContext(fixture('spawn-reader.mjs')).terminate();
    expect(constructed.count).toBe(before + 1);
    expect(getEnvironmentData('dcontext:spawn-context')).toBeUndefined();
  });

  it('lets a worker error nobody listens for crash the process, as a plain Worker does', () => {
    const result = spawnSync(
      process.execPath,
      [fileURLToPath(fixture('unhandled-worker-error.mjs'))],
      {
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('boom in worker');
  });

  it("attaches the spawner's context to errors the worker emits", async () => {
    const error = await inRequest(
      () =>
        new Promise<unknown>((resolve) =>
          spawnWithContext(fixture('crash-on-start.mjs')).once('error', resolve),
        ),
    );
    expect((error as Error).message).toBe('worker failed to start');
    expect(errorContext(error)).toMatchObject({
      scopeChain: ['http', 'job'],
      values: { request_id: 'r-spawn', main_only: { plan: 'pro' } },
    });
    expect(errorContext(error)?.values).not.toHaveProperty('tenant_handle');
  });

  it('delivers an uncaught DContextError of the worker as a DContextError, code and key kept', async () => {
    const error = await inRequest(
      () =>
        new Promise<unknown>((resolve) =>
          spawnWithContext(fixture('dcontext-error.mjs')).once('error', resolve),
        ),
    );
    expect(isDContextError(error, 'NOT_REGISTERED')).toBe(true);
    expect((error as DContextError).key).toBe('missing_key');
    expect((error as Error).stack).toContain('dcontext-error.mjs');
    expect(errorContext(error)?.values).toMatchObject({ request_id: 'r-spawn' });
  });
});
