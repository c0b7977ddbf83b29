/**
 * Question: what does dcontext cost on each runtime it supports, against that runtime's own
 * AsyncLocalStorage? Three operations, 10 keys: a read, a scope + one write, and a request of
 * scope + write + 10 awaits + read.
 *
 * Self-contained (tinybench and the built package only), so every runtime runs this file as it
 * is: `npm run build`, then `node --import tsx bench/runtimes.bench.ts`,
 * `deno run -A bench/runtimes.bench.ts`, `bun bench/runtimes.bench.ts`. dcontext and raw ALS
 * run in the same process, alternating in rounds; each figure is the median round.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Bench } from 'tinybench';
import type * as Dcontext from '../src/index.js';

// A variable, so that type-checking does not require a build to exist.
const DIST_ENTRY = '../dist/index.js';
const dcontext: typeof Dcontext = await import(DIST_ENTRY);
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

const KEYS = 10;
const INDEX = 3;
const builder = new dcontext.RegistryBuilder();
const keys = Array.from({ length: KEYS }, (_, i) => builder.register<string>(`key${i}`));
dcontext.initialize(builder);
const key = keys[INDEX]!;
const als = new AsyncLocalStorage<unknown[]>();
const array = Array.from({ length: KEYS }, (_, i) => `value${i}`);
const sink: unknown[] = new Array<unknown>(64).fill(undefined);
const BATCH = 100;

interface Task {
  readonly name: string;
  readonly batch: number;
  readonly fn: () => unknown;
  readonly enter: <R>(fn: () => R) => R;
}
const inDcontext = <R>(fn: () => R): R =>
  dcontext.scope(() => {
    for (let i = 0; i < KEYS; i++) dcontext.set(keys[i]!, `value${i}`);
    return fn();
  });
const inRaw = <R>(fn: () => R): R => als.run(array, fn);
const outside = <R>(fn: () => R): R => fn();

async function request(
  enter: (fn: () => Promise<unknown>) => Promise<unknown>,
  read: () => unknown,
) {
  return enter(async () => {
    for (let i = 0; i < 10; i++) await null;
    return read();
  });
}

const tasks: Task[] = [
  {
    name: 'read: dcontext get(key)',
    batch: BATCH,
    enter: inDcontext,
    fn: () => {
      for (let i = 0; i < BATCH; i++) sink[i & 63] = dcontext.get(key);
    },
  },
  {
    name: 'read: raw ALS getStore()[i]',
    batch: BATCH,
    enter: inRaw,
    fn: () => {
      for (let i = 0; i < BATCH; i++) sink[i & 63] = als.getStore()![INDEX];
    },
  },
  {
    name: 'scope + write: dcontext scope(fn) + set',
    batch: BATCH,
    enter: inDcontext,
    fn: () => {
      for (let i = 0; i < BATCH; i++) sink[i & 63] = dcontext.scope(() => dcontext.set(key, 'x'));
    },
  },
  {
    name: 'scope + write: raw ALS run(copy with the write)',
    batch: BATCH,
    enter: inRaw,
    fn: () => {
      for (let i = 0; i < BATCH; i++) {
        const copy = als.getStore()!.slice();
        copy[INDEX] = 'x';
        sink[i & 63] = als.run(copy, () => undefined);
      }
    },
  },
  {
    name: '10 awaits: dcontext scope + set + 10 awaits + get',
    batch: 1,
    enter: outside,
    fn: () =>
      request(
        (fn) =>
          dcontext.scope(() => {
            dcontext.set(key, 'r');
            return fn();
          }),
        () => dcontext.get(key),
      ),
  },
  {
    name: '10 awaits: raw ALS run + 10 awaits + getStore',
    batch: 1,
    enter: outside,
    fn: () =>
      request(
        (fn) => als.run(array.slice(), fn),
        () => als.getStore()![INDEX],
      ),
  },
];

const ROUNDS = quick ? 2 : 5;
const samples = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
for (let round = 0; round <= ROUNDS; round++) {
  for (let t = 0; t < tasks.length; t++) {
    const task = tasks[(t + round) % tasks.length]!;
    const bench = new Bench({ time: quick ? 50 : 200, warmupTime: 50, iterations: 20 });
    bench.add(task.name, task.fn);
    if (task.batch === 1) await task.enter(() => bench.run());
    else task.enter(() => bench.runSync());
    const result = bench.getTask(task.name)?.result;
    if (result?.state !== 'completed') throw new Error(`${task.name} did not complete`);
    if (round > 0) samples.get(task.name)!.push((result.latency.p50 * 1e6) / task.batch);
  }
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
};
const ns = (name: string): number => median(samples.get(name)!);
const runtime =
  'Deno' in globalThis
    ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
    : 'Bun' in globalThis
      ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
      : `node ${process.versions.node}`;
console.log(`\n#### ${runtime}${quick ? ' (quick run)' : ''}\n`);
console.log('| operation (10 keys) | dcontext ns | raw ALS ns | × raw |');
console.log('| :-- | --: | --: | --: |');
for (let i = 0; i < tasks.length; i += 2) {
  const ours = ns(tasks[i]!.name);
  const raw = ns(tasks[i + 1]!.name);
  const label = tasks[i]!.name.split(':')[0];
  console.log(
    `| ${label} | ${ours.toFixed(1)} | ${raw.toFixed(1)} | ${(ours / raw).toFixed(2)}x |`,
  );
}
