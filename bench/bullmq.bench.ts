/**
 * Question: what does dcontext/bullmq add per job, next to plain BullMQ with the same data?
 *
 * - **Round trip on Redis**: jobs added in chunks of 60 (20 in flight) and processed by a worker
 *   (concurrency 20), timed from the first add of a chunk to its last completion. Each variant
 *   runs in processes of its own (fresh processes, alternating order), so one variant's code never
 *   shares a JIT, a heap or async hooks with another's:
 *   - `plain`: `queue.add` + a processor, in a process that never loads a context (on Node 20
 *     no promise hooks at all);
 *   - `by hand`: what a user writes without dcontext: an `AsyncLocalStorage` holding the 5 keys,
 *     copied into the job's `data` at add time and entered with `als.run` around the processor;
 *   - `dcontext`: `addWithContext` from a scope holding the 5 keys + `withJobContext`.
 *   Each process first runs WARM_CHUNKS chunks unmeasured: V8 keeps optimizing BullMQ's,
 *   ioredis's and dcontext's functions for the first few thousand jobs, and a run that measures
 *   that warm-up measures the compiler (with 60 warm-up jobs, TurboFan was still running at
 *   ~170k-450k instructions per job, and more for whichever variant ran more distinct code).
 *   Target: per-job overhead at most 10% of the plain round trip (wall time; CPU time reported).
 * - **dcontext's own work per job**, in-process (no Redis): `addWithContext`'s serialization and
 *   `withJobContext` around a processor, with a job object as BullMQ hands it over.
 * - **The size** the context adds to a job with 5 typical keys.
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379). Run: `npm run bench -- bullmq`
 * (`--quick` for a short run).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { type Job, Queue, Worker } from 'bullmq';
import type * as Core from '../src/index.js';
import type * as Integration from '../src/integrations/bullmq/index.js';
import { type PerUnitTime, timeChunks } from './support/callgrind.js';
import { childJob, reply, runChild } from './support/child.js';
import { importBuild } from './support/impls.js';
import { measure, median, quick, spreadPercent } from './support/measure.js';
import { printTable, target } from './support/table.js';

// dcontext as users run it: the build (see importBuild).
const { initialize, RegistryBuilder, scope, set, tryGet } = await importBuild<typeof Core>(
  'index.js',
  '../../src/index.js',
);
const { addWithContext, jobContext, withJobContext } = await importBuild<typeof Integration>(
  'bullmq.js',
  '../../src/integrations/bullmq/index.js',
);

type Variant = 'plain' | 'by hand' | 'dcontext';
const VARIANTS: readonly Variant[] = ['plain', 'by hand', 'dcontext'];
/** A child's job; with `instructions` it runs under callgrind (bench/messaging-instructions.ts). */
export interface RoundTripJob {
  readonly variant: Variant;
  readonly warmChunks: number;
  readonly chunks: number;
  readonly instructions?: boolean;
}
/** Per job: wall time from a chunk's first add to its last completion, and the process's CPU time. */
type RoundTripResult = PerUnitTime;

const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
const data = { to: 'ada@example.com', template: 'welcome', userId: 'u-42' };
const JOBS = 60;
const IN_FLIGHT = 20;
const REQUEST = {
  request_id: 'req-7f3a9c2e-1b4d-4e8f-9a2b-3c4d5e6f7a8b',
  tenant: 'acme',
  user: { id: 'u-42', roles: ['buyer', 'admin'] },
  locale: 'en-GB',
  deadline: 1_900_000_000_000,
};
type RequestValues = typeof REQUEST;

const job = childJob<RoundTripJob>();
if (job !== undefined) {
  reply(await roundTripProcess(job));
  process.exit(0);
}

/** One variant's queue and worker in this (child) process: µs per job, after a warm-up. */
async function roundTripProcess(task: RoundTripJob): Promise<RoundTripResult> {
  const { variant } = task;
  const name = `bench-${variant.replace(' ', '-')}-${process.pid}`;
  const queue = new Queue(name, { connection });
  let completed = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const als = new AsyncLocalStorage<RequestValues>();
  let processor: (job: Job) => Promise<string>;
  let enter: (fn: () => Promise<void>) => Promise<void>;
  let add: () => Promise<unknown>;
  if (variant === 'plain') {
    processor = async (job) => `${job.data.to} - -`;
    enter = (fn) => fn();
    add = () => queue.add('welcome', data);
  } else if (variant === 'by hand') {
    const read = async (job: Job) =>
      `${job.data.to} ${als.getStore()?.request_id ?? '-'} ${als.getStore()?.tenant ?? '-'}`;
    processor = (job) => als.run(job.data.context as RequestValues, read, job);
    enter = (fn) => als.run({ ...REQUEST }, fn);
    add = () => queue.add('welcome', { ...data, context: als.getStore() });
  } else {
    const builder = new RegistryBuilder();
    const requestId = builder.register<string>('request_id');
    const tenant = builder.register<string>('tenant');
    const user = builder.register<RequestValues['user']>('user');
    const locale = builder.register<string>('locale');
    const deadline = builder.register<number>('deadline');
    initialize(builder);
    processor = withJobContext(
      async (job: Job) => `${job.data.to} ${tryGet(requestId) ?? '-'} ${tryGet(tenant) ?? '-'}`,
    );
    enter = (fn) =>
      scope('http', () =>
        scope('signup', () => {
          set(requestId, REQUEST.request_id);
          set(tenant, REQUEST.tenant);
          set(user, { ...REQUEST.user });
          set(locale, REQUEST.locale);
          set(deadline, REQUEST.deadline);
          return fn();
        }),
      );
    add = () => addWithContext(queue, 'welcome', data);
  }
  const worker = new Worker(name, processor, { connection, concurrency: IN_FLIGHT });
  worker.on('completed', () => {
    completed++;
    if (waiting !== undefined && completed >= waiting.count) waiting.resolve();
  });
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  /** Adds JOBS jobs (IN_FLIGHT at a time) and waits until the worker completed them. */
  async function chunk(): Promise<void> {
    const done = new Promise<void>((resolve) => {
      waiting = { count: completed + JOBS, resolve };
    });
    await enter(async () => {
      for (let i = 0; i < JOBS; i += IN_FLIGHT) {
        const adds = [];
        for (let j = i; j < Math.min(JOBS, i + IN_FLIGHT); j++) adds.push(add());
        await Promise.all(adds);
      }
    });
    await done;
  }
  const result = await timeChunks(chunk, task, JOBS);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return result;
}

const PROCESSES = quick ? 2 : 6;
const self = fileURLToPath(import.meta.url);
const runs = new Map<Variant, RoundTripResult[]>(VARIANTS.map((v) => [v, []]));
for (let round = 0; round < PROCESSES; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) {
    const result = await runChild<RoundTripResult>(self, {
      variant,
      warmChunks: quick ? 60 : 150,
      chunks: quick ? 40 : 100,
    } satisfies RoundTripJob);
    runs.get(variant)!.push(result);
  }
}
const wall = (v: Variant) => runs.get(v)!.map((r) => r.wallUs * 1000);
const cpu = (v: Variant) => runs.get(v)!.map((r) => r.cpuUs * 1000);
const rows = (of: (v: Variant) => number[]) =>
  VARIANTS.map((v) => ({
    label: v,
    nsPerOp: median(of(v)),
    spread: spreadPercent(of(v), median(of(v))),
  }));
const shape = `median of ${PROCESSES} processes each, ${quick ? 40 : 100} chunks of ${JOBS} jobs after ${quick ? 60 : 150} warm-up chunks; ${IN_FLIGHT} adds in flight, worker concurrency ${IN_FLIGHT}`;
printTable(`BullMQ round trip per job, wall time (${shape})`, rows(wall), {
  baseline: 'plain',
  subject: 'dcontext',
  ratioHeader: '× plain',
});
printTable(`BullMQ, the process's CPU time per job (same runs)`, rows(cpu), {
  baseline: 'plain',
  subject: 'dcontext',
  ratioHeader: '× plain',
});
const plainMs = median(wall('plain')) / 1e6;
const contextMs = median(wall('dcontext')) / 1e6;

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const user = builder.register<{ id: string; roles: string[] }>('user');
const locale = builder.register<string>('locale');
const deadline = builder.register<number>('deadline');
initialize(builder);

/** Runs `fn` in a request scope holding 5 typical keys. */
function inRequest<R>(fn: () => R): R {
  return scope('http', () =>
    scope('signup', () => {
      set(requestId, REQUEST.request_id);
      set(tenant, REQUEST.tenant);
      set(user, { ...REQUEST.user });
      set(locale, REQUEST.locale);
      set(deadline, REQUEST.deadline);
      return fn();
    }),
  );
}

// dcontext's own work per job, without Redis.
const fakeQueue = {
  add: async (_n: string, _d: unknown, opts?: object) => ({ opts: opts ?? {} }),
  addBulk: async () => [],
};
const sampleJob = inRequest(() => ({ queueName: 'emails', opts: { dcontext: '' }, data }));
const carried = await inRequest(() => addWithContext(fakeQueue, 'welcome', data));
(sampleJob.opts as { dcontext: string }).dcontext = jobContext(carried) ?? '';
const wrapped = withJobContext(async (job: typeof sampleJob) => job.data.to);
const bare = async (job: typeof sampleJob) => job.data.to;
const BATCH = 100;
const [addOwn, addBare, runOwn, runBare] = await inRequest(() =>
  measure(
    [
      {
        name: 'addWithContext (no Redis)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await addWithContext(fakeQueue, 'welcome', data);
        },
      },
      {
        name: 'queue.add (no Redis)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await fakeQueue.add('welcome', data);
        },
      },
      {
        name: 'withJobContext(processor)(job)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await wrapped(sampleJob);
        },
      },
      {
        name: 'processor(job)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await bare(sampleJob);
        },
      },
    ],
    { async: true },
  ),
);
const ownNs = addOwn!.nsPerOp - addBare!.nsPerOp + runOwn!.nsPerOp - runBare!.nsPerOp;
printTable(
  "dcontext's own work per job, in-process (5 typical keys)",
  [
    { label: addBare!.name, nsPerOp: addBare!.nsPerOp, spread: addBare!.spread },
    { label: addOwn!.name, nsPerOp: addOwn!.nsPerOp, spread: addOwn!.spread },
    { label: runBare!.name, nsPerOp: runBare!.nsPerOp, spread: runBare!.spread },
    { label: runOwn!.name, nsPerOp: runOwn!.nsPerOp, spread: runOwn!.spread },
  ],
  { baseline: addBare!.name, ratioHeader: '× bare add' },
);

const context = jobContext(carried) ?? '';
const optionBytes = Buffer.byteLength(JSON.stringify({ dcontext: context })) - 2; // less the braces
console.log(
  `Size: the context of 5 typical keys is ${context.length} characters; the job's stored options grow by ${optionBytes} bytes (data: unchanged, ${JSON.stringify(data).length} bytes).`,
);
console.log(
  `dcontext's own work: ${(ownNs / 1000).toFixed(1)} µs per job = ${((ownNs / 1e6 / plainMs) * 100).toFixed(1)}% of the plain round trip (${(plainMs * 1000).toFixed(0)} µs)\n`,
);
target(
  'BullMQ, (addWithContext + withJobContext) ÷ plain, round trip per job <= 1.10',
  contextMs / plainMs,
  '<=',
  1.1,
);
target(
  "BullMQ, dcontext's own work per job ÷ plain round trip <= 0.10",
  ownNs / 1e6 / plainMs,
  '<=',
  0.1,
);
