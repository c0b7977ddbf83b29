/**
 * Jobs through a real BullMQ queue on Redis: each job runs in a fresh `job:<queue>` scope with
 * the context it was added in - through concurrency, retries, delays, bulk adds, schedulers and
 * flows - and never in the user's data.
 */
import { FlowProducer, Job, Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deserialize,
  initialize,
  isDContextError,
  maxContextSize,
  scope,
  scopeChain,
  set,
  setMaxContextSize,
  tryGet,
} from '../../../src/index.js';
import {
  addBulkWithContext,
  addFlowWithContext,
  addWithContext,
  jobContext,
  jobOptionsWithContext,
  withJobContext,
} from '../../../src/integrations/bullmq/index.js';
import {
  builder,
  connection,
  job,
  queueName,
  requestId,
  secret,
  sleep,
  tenant,
} from './support/setup.js';

beforeAll(() => initialize(builder));

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function queue(what: string): Queue {
  const q = new Queue(queueName(what), { connection });
  closers.push(async () => {
    await q.obliterate({ force: true });
    await q.close();
  });
  return q;
}

interface Seen {
  readonly id: string;
  readonly requestId: string | undefined;
  readonly tenant: string | undefined;
  readonly job: number | undefined;
  readonly secret: string | undefined;
  readonly chain: string[];
  readonly attempt: number;
}

/** A worker that records what each job sees, after a random delay, and waits for `count` jobs. */
function recorder(
  q: Queue,
  count: number,
  options: { fail?: (job: Job) => boolean; concurrency?: number } = {},
) {
  const seen: Seen[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const worker = new Worker(
    q.name,
    withJobContext(async (j: Job) => {
      await sleep(Math.random() * 5);
      seen.push({
        id: String(j.data.id),
        requestId: tryGet(requestId),
        tenant: tryGet(tenant),
        job: tryGet(job),
        secret: tryGet(secret),
        chain: scopeChain(),
        attempt: j.attemptsMade,
      });
      // Values set in one job must not reach the next.
      set(tenant, 'leaked');
      if (options.fail?.(j) === true) throw new Error('try again');
      if (seen.length >= count) done();
      return 'ok';
    }),
    { connection, concurrency: options.concurrency ?? 20 },
  );
  closers.push(() => worker.close());
  return { seen, finished, worker };
}

describe('addWithContext and withJobContext', () => {
  it('100 concurrent requests of 10 jobs each: every job sees its own request, zero mismatches', async () => {
    const q = queue('load');
    const { seen, finished } = recorder(q, 1000, { concurrency: 50 });
    await Promise.all(
      Array.from({ length: 100 }, (_, r) =>
        scope(`request-${r}`, async () => {
          set(requestId, `req-${r}`);
          set(tenant, `tenant-${r % 7}`);
          for (let j = 0; j < 10; j++) {
            await sleep(Math.random() * 3);
            await scope(`step-${j}`, async () => {
              set(job, j);
              await addWithContext(q, 'work', { id: `${r}-${j}` });
            });
          }
        }),
      ),
    );
    await finished;
    expect(seen).toHaveLength(1000);
    const mismatches = seen.filter((s) => {
      const [r, j] = s.id.split('-').map(Number) as [number, number];
      return (
        s.requestId !== `req-${r}` ||
        s.tenant !== `tenant-${r % 7}` ||
        s.job !== j ||
        s.chain.join('>') !== `request-${r}>step-${j}>job:${q.name}`
      );
    });
    expect(mismatches).toEqual([]);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1000);
  });

  it('keeps the context out of the job data, and local-only keys out of the job', async () => {
    const q = queue('data');
    const added = await scope('request', async () => {
      set(requestId, 'r-1');
      set(secret, 'never-sent');
      return addWithContext(q, 'work', { id: 'x' }, { attempts: 2 });
    });
    const stored = await Job.fromId(q, added.id ?? '');
    expect(stored?.data).toEqual({ id: 'x' });
    expect(stored?.opts.attempts).toBe(2);
    const carried = deserialize(jobContext(stored as Job) ?? '');
    expect(carried.get(requestId)).toBe('r-1');
    expect(carried.has(secret)).toBe(false);
    expect(carried.scopeChain).toEqual(['request']);
  });

  it('a retried job runs again with the original context', async () => {
    const q = queue('retry');
    const { seen, finished } = recorder(q, 3, { fail: (j) => j.attemptsMade < 2 });
    await scope('request', async () => {
      set(requestId, 'r-retry');
      await addWithContext(q, 'work', { id: 'retry' }, { attempts: 3 });
    });
    await finished;
    expect(seen.map((s) => [s.attempt, s.requestId, s.tenant, s.chain.join('>')])).toEqual([
      [0, 'r-retry', undefined, `request>job:${q.name}`],
      [1, 'r-retry', undefined, `request>job:${q.name}`],
      [2, 'r-retry', undefined, `request>job:${q.name}`],
    ]);
  });

  it('a delayed job and a bulk of jobs run with the context they were added in', async () => {
    const q = queue('delayed');
    const { seen, finished } = recorder(q, 4);
    await scope('request', async () => {
      set(requestId, 'r-delay');
      await addWithContext(q, 'later', { id: 'delayed' }, { delay: 100 });
      set(requestId, 'r-bulk');
      await addBulkWithContext(q, [
        { name: 'a', data: { id: 'b1' } },
        { name: 'b', data: { id: 'b2' }, opts: { priority: 1 } },
        { name: 'c', data: { id: 'b3' } },
      ]);
    });
    await finished;
    const byId = Object.fromEntries(seen.map((s) => [s.id, s.requestId]));
    expect(byId).toEqual({ delayed: 'r-delay', b1: 'r-bulk', b2: 'r-bulk', b3: 'r-bulk' });
  });

  it('jobs made by a job scheduler from a template run with its context', async () => {
    const q = queue('scheduler');
    const { seen, finished } = recorder(q, 2);
    // The scheduler's template options are copied into every job it makes.
    await scope('setup', async () => {
      set(requestId, 'r-sched');
      await q.upsertJobScheduler(
        'every',
        { every: 150 },
        { name: 'tick', data: { id: 'tick' }, opts: jobOptionsWithContext({ attempts: 1 }) },
      );
    });
    await finished;
    expect(seen.slice(0, 2).map((s) => [s.requestId, s.chain.join('>')])).toEqual([
      ['r-sched', `setup>job:${q.name}`],
      ['r-sched', `setup>job:${q.name}`],
    ]);
    await q.removeJobScheduler('every');
  });

  it('every job of a flow, parent and children, runs with the context of addFlowWithContext', async () => {
    const q = queue('flow');
    const flows = new FlowProducer({ connection });
    closers.push(() => flows.close());
    const { seen, finished } = recorder(q, 3);
    await scope('request', async () => {
      set(requestId, 'r-flow');
      await addFlowWithContext(flows, {
        name: 'parent',
        queueName: q.name,
        data: { id: 'parent' },
        children: [
          { name: 'child', queueName: q.name, data: { id: 'child-1' } },
          { name: 'child', queueName: q.name, data: { id: 'child-2' }, opts: { priority: 2 } },
        ],
      });
    });
    await finished;
    expect(seen.map((s) => s.id).sort()).toEqual(['child-1', 'child-2', 'parent']);
    expect(new Set(seen.map((s) => `${s.requestId} ${s.chain.join('>')}`))).toEqual(
      new Set([`r-flow request>job:${q.name}`]),
    );
    // The parent runs after its children.
    expect(seen[2]?.id).toBe('parent');
  });

  it('a job added without context runs in an empty job scope, not in the worker ambient context', async () => {
    const q = queue('plain');
    const events = new QueueEvents(q.name, { connection });
    closers.push(() => events.close());
    await events.waitUntilReady();
    const worker = await scope('worker-startup', async () => {
      set(requestId, 'ambient');
      return new Worker(
        q.name,
        withJobContext(async () => ({ requestId: tryGet(requestId) ?? null, chain: scopeChain() })),
        { connection },
      );
    });
    closers.push(() => worker.close());
    const added = await q.add('plain', { id: 'plain' });
    expect(await added.waitUntilFinished(events)).toEqual({
      requestId: null,
      chain: [`job:${q.name}`],
    });
  });

  it('a processor that is not async: its value completes the job, its throw fails it, both in the job context', async () => {
    const q = queue('sync-processor');
    const events = new QueueEvents(q.name, { connection });
    closers.push(() => events.close());
    await events.waitUntilReady();
    const worker = new Worker(
      q.name,
      withJobContext((job: Job) => {
        if (job.data.fail === true) throw new Error(`boom in ${tryGet(requestId) ?? 'nothing'}`);
        return `done in ${tryGet(requestId) ?? 'nothing'}`;
      }),
      { connection },
    );
    closers.push(() => worker.close());
    const [ok, bad] = await scope('request', async () => {
      set(requestId, 'r-sync');
      return Promise.all([
        addWithContext(q, 'ok', { fail: false }),
        addWithContext(q, 'bad', { fail: true }),
      ]);
    });
    expect(await ok.waitUntilFinished(events)).toBe('done in r-sync');
    await expect(bad.waitUntilFinished(events)).rejects.toThrow('boom in r-sync');
  });

  it('a processor returning a lazy thenable (a query builder) runs its then() in the job context', async () => {
    const q = queue('thenable');
    const events = new QueueEvents(q.name, { connection });
    closers.push(() => events.close());
    await events.waitUntilReady();
    // The worker is made in an ambient scope: the thenable must never see it.
    const worker = await scope('worker', async () => {
      set(requestId, 'AMBIENT');
      return new Worker(
        q.name,
        withJobContext(() => ({
          // biome-ignore lint/suspicious/noThenProperty: a lazy thenable, as a query builder is
          then(resolve: (value: unknown) => void) {
            resolve({ requestId: tryGet(requestId) ?? null, chain: scopeChain() });
          },
        })),
        { connection },
      );
    });
    closers.push(() => worker.close());
    const added = await scope('sender', async () => {
      set(requestId, 'job-ctx');
      return addWithContext(q, 'lazy', {});
    });
    expect(await added.waitUntilFinished(events)).toEqual({
      requestId: 'job-ctx',
      chain: ['sender', `job:${q.name}`],
    });
  });

  it('an oversize context rejects the add and adds nothing', async () => {
    const q = queue('oversize');
    const before = maxContextSize();
    setMaxContextSize(64);
    try {
      const error = await scope('request', async () => {
        set(requestId, 'x'.repeat(200));
        return addWithContext(q, 'big', { id: 'big' }).catch((e: unknown) => e);
      });
      expect(isDContextError(error, 'CONTEXT_TOO_LARGE')).toBe(true);
    } finally {
      setMaxContextSize(before);
    }
    expect(await q.count()).toBe(0);
  });

  it('sends only the keys named in send', async () => {
    const q = queue('send');
    const added = await scope('request', async () => {
      set(requestId, 'r-1');
      set(tenant, 'acme');
      return addWithContext(q, 'work', {}, undefined, { send: [requestId] });
    });
    const carried = deserialize(jobContext(added) ?? '');
    expect([carried.has(requestId), carried.has(tenant)]).toEqual([true, false]);
  });

  it('refuses options that mean nothing with INVALID_ARGUMENT', async () => {
    const q = queue('options');
    const bad = [
      () => withJobContext('not a function' as never),
      () => withJobContext(async () => 1, { onInvalid: 'ignore' as never }),
      () => withJobContext(async () => 1, { accept: 'some' as never }),
      () => withJobContext(async () => 1, { onError: 42 as never }),
      () => withJobContext(async () => 1, { verifyKeys: [] }),
      () => withJobContext(async () => 1, 'options' as never),
    ];
    for (const make of bad) {
      expect(() => make()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    await expect(addWithContext(q, 'x', {}, 'opts' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      addWithContext(q, 'x', {}, undefined, { send: 'none' as never }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(addBulkWithContext(q, 'jobs' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await q.count()).toBe(0);
  });
});
