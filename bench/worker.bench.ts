/**
 * Question: what does carrying context into worker threads cost?
 *
 * 1. Per task, on a Piscina pool of 2 workers: `runWithContext(pool, n)` against a plain
 *    `pool.run(n)` of the same trivial task, with a 10-key context under a two-name scope chain
 *    (target <= 1.15x), 64 tasks in flight. Three cases: tasks that share their context (a
 *    request that fans out several tasks: the sender encodes the context once per scope, the
 *    worker decodes it once); a new context for every task, made by a scope that sets its own
 *    request id (many concurrent requests, each with its own context); and a new context that
 *    differs in 4 of the 10 keys (request id, a new user object, trace and span ids). Each new
 *    context case also has a plain `pool.run(n)` made after the same `scope` and `set` calls,
 *    so that its ratio can be read without the cost of making the context.
 * 2. Start-up: `spawnWithContext(file)` against `new Worker(file)`, from construction to the
 *    first message of a worker that imports dcontext and initializes it (target: no difference
 *    beyond noise).
 *
 * Run: `npm run build && npx tsx bench/worker.bench.ts` (`--quick` for a short run). Worker
 * files import the built package; the main side uses the sources unless `BENCH_DCONTEXT=dist`.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type * as Dcontext from '../src/index.js';
import type * as DcontextWorker from '../src/worker/index.js';
import { dcontextBuild } from './support/impls.js';
import { median, quick } from './support/measure.js';
import { printTable, target } from './support/table.js';

const dist = (file: string): string => new URL(`../dist/${file}`, import.meta.url).href;
const dcontext: typeof Dcontext =
  dcontextBuild === 'dist'
    ? ((await import(dist('index.js'))) as typeof Dcontext)
    : await import('../src/index.js');
const { runWithContext, spawnWithContext }: typeof DcontextWorker =
  dcontextBuild === 'dist'
    ? ((await import(dist('worker.js'))) as typeof DcontextWorker)
    : await import('../src/worker/index.js');
const { RegistryBuilder, initialize, scope, set } = dcontext;

const builder = new RegistryBuilder();
const keys = {
  requestId: builder.register<string>('request_id'),
  tenant: builder.register<string>('tenant'),
  user: builder.register<{ id: string; roles: string[] }>('user'),
  flags: builder.register<Record<string, boolean>>('flags'),
  deadline: builder.register<number>('deadline'),
  traceId: builder.register<string>('trace_id'),
  spanId: builder.register<string>('span_id'),
  locale: builder.register<string>('locale'),
  sampled: builder.register<boolean>('sampled'),
  retryCount: builder.register<number>('retry_count'),
};
initialize(builder);

function setContext(requestId: string): void {
  set(keys.requestId, requestId);
  set(keys.tenant, 'acme-corp');
  set(keys.user, { id: 'u-48151623', roles: ['admin', 'billing', 'support'] });
  set(keys.flags, { newCheckout: true, darkMode: false, betaSearch: true });
  set(keys.deadline, 1_767_225_600_000);
  set(keys.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  set(keys.spanId, '00f067aa0ba902b7');
  set(keys.locale, 'en-GB');
  set(keys.sampled, true);
  set(keys.retryCount, 2);
}

/** Runs `fn` inside the bench's 10-key context under the chain ['http', 'render']. */
function inContext<R>(requestId: string, fn: () => R): R {
  return scope('http', () => {
    setContext(requestId);
    return scope('render', fn);
  });
}

/** The bench's context for request `n` with 4 of the 10 keys its own. */
function setOwnKeys(n: number): void {
  set(keys.requestId, `req-${n}`);
  set(keys.user, { id: `u-${n}`, roles: ['admin', 'billing', 'support'] });
  set(keys.traceId, `4bf92f3577b34da6a3ce929d0e${String(100_000 + n)}`);
  set(keys.spanId, `00f067aa0b${String(100_000 + n)}`);
}

const BATCH = 64;
const filename = new URL('./support/worker-task.mjs', import.meta.url).href;
const PLAIN = 'plain pool.run(n)';
const SAME = 'runWithContext, tasks share their context';
const FRESH = 'runWithContext, a new context per task (own request id)';
const PLAIN_FRESH = '  plain pool.run(n) after the same scope + set';
const MANY = 'runWithContext, a new context per task (4 of 10 keys own)';
const PLAIN_MANY = '  plain pool.run(n) after the same scope + set calls';

/**
 * Batches of the variants alternate (in a rotating order) instead of running one variant
 * for a while and then the next: on a shared 2-core machine the load drifts within seconds, and
 * alternating makes every variant see the same drift. ns/op is the median batch / BATCH.
 */
async function perTask(): Promise<void> {
  // execArgv: [] keeps tsx (which this bench runs under) out of the workers: the task file is plain
  // JavaScript, and tsx's require hook would load it a second time next to Piscina's import().
  const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2, execArgv: [] });
  const variants: [string, (n: number) => Promise<unknown>][] = [
    [PLAIN, (n) => pool.run(n, { name: 'plain' })],
    [SAME, (n) => runWithContext(pool, n, { name: 'withContext' })],
    [
      FRESH,
      (n) =>
        scope(() => {
          set(keys.requestId, `req-${n}`);
          return runWithContext(pool, n, { name: 'withContext' });
        }),
    ],
    [
      PLAIN_FRESH,
      (n) =>
        scope(() => {
          set(keys.requestId, `req-${n}`);
          return pool.run(n, { name: 'plain' });
        }),
    ],
    [
      MANY,
      (n) =>
        scope(() => {
          setOwnKeys(n);
          return runWithContext(pool, n, { name: 'withContext' });
        }),
    ],
    [
      PLAIN_MANY,
      (n) =>
        scope(() => {
          setOwnKeys(n);
          return pool.run(n, { name: 'plain' });
        }),
    ],
  ];
  const samples = variants.map((): number[] => []);
  const rounds = quick ? 60 : 400;
  await inContext('req-same', async () => {
    for (let round = -10; round < rounds; round++) {
      for (let v = 0; v < variants.length; v++) {
        const index = (v + round + 10) % variants.length;
        const run = variants[index]![1];
        const began = performance.now();
        const results = await Promise.all(Array.from({ length: BATCH }, (_, n) => run(n)));
        const elapsed = performance.now() - began;
        if (results[BATCH - 1] !== BATCH)
          throw new Error(`unexpected ${String(results[BATCH - 1])}`);
        if (round >= 0) samples[index]!.push((elapsed * 1e6) / BATCH); // rounds < 0: warm-up
      }
    }
  });
  await pool.destroy();
  const rows = variants.map(([label], i) => {
    const nsPerOp = median(samples[i]!);
    return { label, nsPerOp, spread: quartileSpread(samples[i]!, nsPerOp) };
  });
  printTable(
    `Per task, Piscina pool of 2 workers, ${BATCH} tasks in flight, 10-key context (median of ${rounds} batches)`,
    rows,
    { baseline: PLAIN, ratioHeader: '× plain run' },
  );
  const ratio = (label: string): number =>
    rows.find((r) => r.label === label)!.nsPerOp / rows.find((r) => r.label === PLAIN)!.nsPerOp;
  target(
    'runWithContext ÷ plain pool.run, tasks sharing a 10-key context',
    ratio(SAME),
    '<=',
    1.15,
  );
  target(
    'runWithContext ÷ plain pool.run, a new 10-key context per task (own request id)',
    ratio(FRESH),
    '<=',
    1.15,
  );
  const matched = (label: string, plain: string): string =>
    (
      rows.find((r) => r.label === label)!.nsPerOp / rows.find((r) => r.label === plain)!.nsPerOp
    ).toFixed(2);
  console.log(
    `      without making the context: ${matched(FRESH, PLAIN_FRESH)}x (÷ plain run after the same scope + set)`,
  );
  console.log(
    `info  runWithContext ÷ plain pool.run, 4 of 10 keys own per task: ${ratio(MANY).toFixed(2)}x; ${matched(MANY, PLAIN_MANY)}x ÷ plain run after the same calls`,
  );
}

/** Half the interquartile range, in percent of the median (per-batch samples are noisy). */
function quartileSpread(values: readonly number[], center: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;
  return ((at(0.75) - at(0.25)) / 2 / center) * 100;
}

const readyFile = new URL('./support/worker-ready.mjs', import.meta.url);

function startUp(start: () => Worker): Promise<number> {
  const began = performance.now();
  const worker = start();
  return new Promise((resolve, reject) => {
    worker.once('message', () => {
      const elapsed = performance.now() - began;
      void worker.terminate().then(() => resolve(elapsed));
    });
    worker.once('error', reject);
  });
}

async function startUps(): Promise<void> {
  const runs = quick ? 10 : 40;
  const plain: number[] = [];
  const withContext: number[] = [];
  await inContext('req-spawn', async () => {
    // Warm-up (module caches, the first worker's extra costs), then alternate the two.
    await startUp(() => new Worker(readyFile, { execArgv: [] }));
    await startUp(() => spawnWithContext(readyFile, { execArgv: [] }));
    for (let i = 0; i < runs; i++) {
      plain.push(await startUp(() => new Worker(readyFile, { execArgv: [] })));
      withContext.push(await startUp(() => spawnWithContext(readyFile, { execArgv: [] })));
    }
  });
  const rows = [
    { label: 'new Worker(file)', values: plain },
    { label: 'spawnWithContext(file), 10-key context', values: withContext },
  ].map(({ label, values }) => {
    const ms = median(values);
    return { label, nsPerOp: ms * 1e6, spread: quartileSpread(values, ms) };
  });
  printTable(`Worker start-up to first message (median of ${runs}, ns)`, rows, {
    baseline: 'new Worker(file)',
    ratioHeader: '× new Worker',
  });
  const ratio = rows[1]!.nsPerOp / rows[0]!.nsPerOp;
  target('spawnWithContext ÷ new Worker start-up', ratio, '<=', 1.05);
}

console.log(
  `worker.bench (${dcontextBuild}) on Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs`,
);
await perTask();
await startUps();
