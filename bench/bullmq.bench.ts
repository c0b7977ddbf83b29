/**
 * Question: what does dcontext/bullmq add per job, next to plain BullMQ with the same data?
 *
 * - **Round trip on Redis**: a batch of jobs added (`queue.add` vs `addWithContext` from a scope
 *   holding 5 typical keys) and processed by a worker (a plain processor vs `withJobContext`
 *   reading two keys), timed from the first add to the last completion. Each variant has a queue
 *   and worker of its own; they run interleaved in small chunks; the median chunk counts.
 *   Target: the per-job overhead is at most 10% of the round trip.
 * - **dcontext's own work per job**, in-process (no Redis): `addWithContext`'s serialization and
 *   `withJobContext` around a processor, with a job object as BullMQ hands it over.
 * - **The size** the context adds to a job with 5 typical keys.
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379). Run: `npm run bench -- bullmq`
 * (`--quick` for a short run).
 */
import { type Job, Queue, Worker } from 'bullmq';
import { initialize, RegistryBuilder, scope, set, tryGet } from '../src/index.js';
import { addWithContext, jobContext, withJobContext } from '../src/integrations/bullmq/index.js';
import { measure, median, quick } from './support/measure.js';
import { printTable, target } from './support/table.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const user = builder.register<{ id: string; roles: string[] }>('user');
const locale = builder.register<string>('locale');
const deadline = builder.register<number>('deadline');
initialize(builder);

const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
const data = { to: 'ada@example.com', template: 'welcome', userId: 'u-42' };
// Small chunks, the two variants interleaved chunk by chunk: on a shared machine the load drifts
// within seconds, and both variants then see the same drift.
const JOBS = 60;
const ROUNDS = quick ? 8 : 30;

/** Runs `fn` in a request scope holding 5 typical keys. */
function inRequest<R>(fn: () => R): R {
  return scope('http', () =>
    scope('signup', () => {
      set(requestId, 'req-7f3a9c2e-1b4d-4e8f-9a2b-3c4d5e6f7a8b');
      set(tenant, 'acme');
      set(user, { id: 'u-42', roles: ['buyer', 'admin'] });
      set(locale, 'en-GB');
      set(deadline, 1_900_000_000_000);
      return fn();
    }),
  );
}

type Variant = 'plain' | 'dcontext';

/** A queue and its worker for one variant, kept for the whole run. */
async function startVariant(variant: Variant) {
  const name = `bench-${variant}-${process.pid}`;
  const queue = new Queue(name, { connection });
  let completed = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const processor = async (job: Job<typeof data>) => {
    return `${job.data.to} ${tryGet(requestId) ?? '-'} ${tryGet(tenant) ?? '-'}`;
  };
  const worker = new Worker(name, variant === 'plain' ? processor : withJobContext(processor), {
    connection,
    concurrency: 20,
  });
  worker.on('completed', () => {
    completed++;
    if (waiting !== undefined && completed >= waiting.count) waiting.resolve();
  });
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  /** Adds JOBS jobs (20 in flight) and waits for the worker to complete them: ms per job. */
  async function roundTrip(): Promise<number> {
    const target = completed + JOBS;
    const done = new Promise<void>((resolve) => {
      waiting = { count: target, resolve };
    });
    const started = performance.now();
    await inRequest(async () => {
      for (let i = 0; i < JOBS; i += 20) {
        const adds = [];
        for (let j = i; j < Math.min(JOBS, i + 20); j++) {
          adds.push(
            variant === 'plain'
              ? queue.add('welcome', data)
              : addWithContext(queue, 'welcome', data),
          );
        }
        await Promise.all(adds);
      }
    });
    await done;
    return (performance.now() - started) / JOBS;
  }
  async function stop() {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
  return { roundTrip, stop };
}

const variants = { plain: await startVariant('plain'), dcontext: await startVariant('dcontext') };
const perJob: Record<Variant, number[]> = { plain: [], dcontext: [] };
await variants.plain.roundTrip(); // warm-up: scripts loaded into Redis, JIT
await variants.dcontext.roundTrip();
for (let round = 0; round < ROUNDS; round++) {
  const order: Variant[] = round % 2 === 0 ? ['plain', 'dcontext'] : ['dcontext', 'plain'];
  for (const variant of order) perJob[variant].push(await variants[variant].roundTrip());
}
await variants.plain.stop();
await variants.dcontext.stop();
const plainMs = median(perJob.plain);
const contextMs = median(perJob.dcontext);
printTable(
  `BullMQ round trip per job (median of ${ROUNDS} interleaved chunks of ${JOBS} jobs, 20 in flight, worker concurrency 20)`,
  [
    { label: 'queue.add + plain processor', nsPerOp: plainMs * 1e6 },
    { label: 'addWithContext + withJobContext', nsPerOp: contextMs * 1e6 },
  ],
  { baseline: 'queue.add + plain processor', ratioHeader: '× plain' },
);

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
