/**
 * Question: what do the TC39 AsyncContext verbs of dcontext/async-context cost against what
 * users write today, one AsyncLocalStorage per variable?
 *
 * - Snapshot + run, with 10 variables bound: `new AsyncContext.Snapshot()` then `snapshot.run(fn)`,
 *   against `AsyncLocalStorage.snapshot()` then calling what it returns (10 ALS instances,
 *   each with a store). Captured inside each one's own context, run at the top level as a
 *   callback would (inside the captured context, ALS would skip its work).
 * - Variable.run + get: `variable.run(value, () => variable.get())` against one raw
 *   `als.run(value, () => als.getStore())`, both at the top level.
 * `BENCH_DCONTEXT=dist` measures the tsup build (`npm run build` first).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type * as AsyncContextModule from '../src/integrations/async-context/index.js';
import { dcontextBuild } from './support/impls.js';
import { measure } from './support/measure.js';
import { printTable, target } from './support/table.js';

// A variable, so that type-checking does not require a build to exist.
const DIST_ENTRY = '../dist/async-context.js';
const { AsyncContext }: typeof AsyncContextModule =
  dcontextBuild === 'dist'
    ? await import(DIST_ENTRY)
    : await import('../src/integrations/async-context/index.js');

const VARIABLES = 10;
const BATCH = 100;
const ring: unknown[] = new Array<unknown>(64).fill(undefined);
let calls = 0;
function work(): void {
  calls++;
}

/** Runs `fn` with every one of `count` bindings made by `bind`, innermost last. */
function nest<R>(count: number, bind: (index: number, inner: () => R) => R, fn: () => R): R {
  const step = (index: number): R => (index === count ? fn() : bind(index, () => step(index + 1)));
  return step(0);
}

const variables = Array.from(
  { length: VARIABLES },
  (_, i) => new AsyncContext.Variable<string>({ name: `v${i}` }),
);
const stores = Array.from({ length: VARIABLES }, () => new AsyncLocalStorage<string>());

const SNAP_DC = `AsyncContext: new Snapshot() + snapshot.run(fn) [${VARIABLES} variables]`;
const SNAP_ALS = `raw: AsyncLocalStorage.snapshot() + snap(fn) [${VARIABLES} ALS]`;
const captureTasks = (snapshotOf: () => () => void, name: string) => ({
  name,
  batch: BATCH,
  fn: () => {
    for (let i = 0; i < BATCH; i++) {
      const run = snapshotOf();
      run();
      ring[i & 63] = run;
    }
  },
});
const before = calls;
const snapshotResults = await measure([
  {
    enter: (fn) => nest(VARIABLES, (i, inner) => variables[i]!.run(`value${i}`, inner), fn),
    tasks: [
      captureTasks(() => {
        const snapshot = new AsyncContext.Snapshot();
        return () => snapshot.run(work);
      }, SNAP_DC),
    ],
  },
  {
    enter: (fn) => nest(VARIABLES, (i, inner) => stores[i]!.run(`value${i}`, inner), fn),
    tasks: [
      captureTasks(() => {
        const snap = AsyncLocalStorage.snapshot();
        return () => snap(work);
      }, SNAP_ALS),
    ],
  },
]);
if (calls === before) throw new Error('the snapshots never ran the function');

const variable = variables[0]!;
const als = stores[0]!;
const readVariable = (): unknown => variable.get();
const readAls = (): unknown => als.getStore();
const RUN_DC = 'AsyncContext: variable.run(value, () => variable.get())';
const RUN_ALS = 'raw: als.run(value, () => als.getStore())';
const runResults = await measure([
  {
    name: RUN_DC,
    batch: BATCH,
    fn: () => {
      for (let i = 0; i < BATCH; i++) ring[i & 63] = variable.run('v', readVariable);
    },
  },
  {
    name: RUN_ALS,
    batch: BATCH,
    fn: () => {
      for (let i = 0; i < BATCH; i++) ring[i & 63] = als.run('v', readAls);
    },
  },
]);

const rows = [...snapshotResults, ...runResults].map((m) => ({
  label: m.name,
  nsPerOp: m.nsPerOp,
  spread: m.spread,
}));
const ns = (label: string): number => rows.find((row) => row.label === label)!.nsPerOp;
printTable('AsyncContext: snapshot + run, 10 variables', rows.slice(0, 2), { baseline: SNAP_ALS });
printTable('AsyncContext: variable.run + get', rows.slice(2), { baseline: RUN_ALS });
const major = Number(process.versions.node.split('.')[0]);
if (major === 20) {
  target(
    `AsyncContext Snapshot+run vs AsyncLocalStorage.snapshot() (10 variables, node ${major}): speed-up`,
    ns(SNAP_ALS) / ns(SNAP_DC),
    '>=',
    10,
  );
}
target(
  `AsyncContext Variable.run+get vs raw ALS run+getStore (node ${major})`,
  ns(RUN_DC) / ns(RUN_ALS),
  '<=',
  1.2,
);
