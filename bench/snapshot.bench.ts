/**
 * Question: what does carrying context into a callback cost — capture it now (`snapshot()`),
 * run code in it later (`withContext`) — and does it depend on how many keys there are?
 *
 * The reference is Node's own `AsyncLocalStorage.snapshot()` + calling the function it returns.
 * Capture runs inside each implementation's own context (1, 10 or 50 keys set; no other
 * implementation's context active, see measure.ts); the restore runs at the top level, outside
 * any context, as a callback would (restoring inside the very context that was captured would
 * let ALS skip its work for the raw building block and OpenTelemetry, since ALS does nothing
 * when asked to run with the store already active). Each key count gets its own processes (one
 * registry per process; three, in alternating order, and every figure is the median process);
 * cls-hooked (`ns.bind(fn)` + calling it) gets processes of its own.
 */
import { fileURLToPath } from 'node:url';
import { childJob, reply, runChild } from './support/child.js';
import { loadCls, loadDcontext, loadOtel, loadRaw, valueAt } from './support/impls.js';
import {
  type BatchTask,
  type Enter,
  type Measurement,
  measure,
  median,
  spreadPercent,
} from './support/measure.js';
import { formatNs, printTable, type Row, target } from './support/table.js';

interface Job {
  readonly impl: 'shared' | 'cls-hooked';
  readonly keys: number;
}

const KEY_COUNTS = [1, 10, 50] as const;
const PROCESSES = 3;
const BATCH = 200;

const DC = 'dcontext snapshot() + withContext(snap, fn)';
const ALS_SNAPSHOT = 'AsyncLocalStorage.snapshot() + snap(fn)';
const RAW = 'raw: ALS getStore() + run(store, fn)';
const OTEL = 'OpenTelemetry context.active() + context.with(ctx, fn)';
const CLS = 'cls-hooked ns.bind(fn) + calling it';
const CAPTURE = ' [capture]';
const RESTORE = ' [restore]';

/** Captures go round a ring, so that they escape (V8 could drop an unused allocation). */
const ring: unknown[] = new Array<unknown>(64).fill(undefined);
let calls = 0;
function work(): void {
  calls++;
}

/** Measures restores and checks that they did call the function. */
async function measureRestore(tasks: readonly BatchTask[]): Promise<Measurement[]> {
  const before = calls;
  const results = await measure(tasks);
  if (calls === before) throw new Error('restoring never called the function');
  return results;
}

async function sharedProcess(keyCount: number): Promise<Measurement[]> {
  const { dcontext, keys, setAll } = await loadDcontext(keyCount);
  const { arrayAls, array, AsyncLocalStorage } = await loadRaw(keyCount);
  const otel = await loadOtel(keyCount);
  const { asyncCtx } = dcontext;
  const { context } = otel;
  const capture: BatchTask[] = [
    {
      name: DC + CAPTURE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ring[i & 63] = asyncCtx.snapshot();
      },
    },
    {
      name: ALS_SNAPSHOT + CAPTURE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ring[i & 63] = AsyncLocalStorage.snapshot();
      },
    },
    {
      name: RAW + CAPTURE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ring[i & 63] = arrayAls.getStore();
      },
    },
    {
      name: OTEL + CAPTURE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ring[i & 63] = context.active();
      },
    },
  ];
  const only = (...names: string[]): BatchTask[] =>
    capture.filter((task) => names.some((name) => task.name === name + CAPTURE));
  const inDcontext: Enter = (fn) =>
    asyncCtx.scope(() => {
      setAll();
      return fn();
    });
  const inRaw: Enter = (fn) => arrayAls.run(array, fn);
  const inOtel: Enter = (fn) => context.with(otel.full, fn);
  const captured = await measure([
    { enter: inDcontext, tasks: only(DC) },
    { enter: inRaw, tasks: only(RAW, ALS_SNAPSHOT) },
    { enter: inOtel, tasks: only(OTEL) },
  ]);
  const last = keys[keyCount - 1]!;
  const snapshot = inDcontext(() => asyncCtx.snapshot());
  const alsSnapshot = inRaw(() => AsyncLocalStorage.snapshot());
  const store = inRaw(() => arrayAls.getStore()!);
  const otelContext = inOtel(() => context.active());
  const restore: BatchTask[] = [
    {
      name: DC + RESTORE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) asyncCtx.withContext(snapshot, work);
      },
    },
    {
      name: ALS_SNAPSHOT + RESTORE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) alsSnapshot(work);
      },
    },
    {
      name: RAW + RESTORE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) arrayAls.run(store, work);
      },
    },
    {
      name: OTEL + RESTORE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) context.with(otelContext, work);
      },
    },
  ];
  // The restored context is the captured one.
  const expected = valueAt(keyCount - 1);
  if (
    asyncCtx.withContext(snapshot, () => asyncCtx.get(last)) !== expected ||
    alsSnapshot(() => arrayAls.getStore()?.[keyCount - 1]) !== expected ||
    context.with(otelContext, () => context.active().getValue(otel.keys[keyCount - 1]!)) !==
      expected ||
    asyncCtx.isActive()
  ) {
    throw new Error('a restored context is not the captured one');
  }
  return [...captured, ...(await measureRestore(restore))];
}

async function clsProcess(keyCount: number): Promise<Measurement[]> {
  const ns = await loadCls();
  const capture: BatchTask[] = [
    {
      name: CLS + CAPTURE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ring[i & 63] = ns.bind(work);
      },
    },
  ];
  const captured = ns.runAndReturn(() => {
    for (let i = 0; i < keyCount; i++) ns.set(`key${i}`, valueAt(i));
    return { bound: ns.bind(work), results: measure(capture) };
  });
  const { bound } = captured;
  const restore: BatchTask[] = [
    {
      name: CLS + RESTORE,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) bound();
      },
    },
  ];
  return [...(await captured.results), ...(await measureRestore(restore))];
}

/** Per measurement, the median over processes (spread: the largest of the processes' spreads and their distance from the median). */
function medianProcess(runs: readonly Measurement[][]): Measurement[] {
  return runs[0]!.map(({ name }) => {
    const values = runs.map((run) => run.find((m) => m.name === name)!.nsPerOp);
    const nsPerOp = median(values);
    const own = Math.max(...runs.map((run) => run.find((m) => m.name === name)!.spread));
    return { name, nsPerOp, spread: Math.max(own, spreadPercent(values, nsPerOp)) };
  });
}

interface Totals {
  readonly capture: number;
  readonly restore: number;
  readonly total: number;
  readonly spread: number;
}

function totals(measurements: readonly Measurement[], label: string): Totals {
  const ns = (suffix: string): Measurement => {
    const found = measurements.find((m) => m.name === label + suffix);
    if (found === undefined) throw new Error(`no measurement '${label + suffix}'`);
    return found;
  };
  const capture = ns(CAPTURE);
  const restore = ns(RESTORE);
  return {
    capture: capture.nsPerOp,
    restore: restore.nsPerOp,
    total: capture.nsPerOp + restore.nsPerOp,
    spread: Math.max(capture.spread, restore.spread),
  };
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log('\n### Snapshot + withContext\n');
  // Each key count in PROCESSES processes, counts in alternating order, each figure the median
  // process: one process in a few settles in a slower state for withContext alone (its raw
  // building block is not slower), and the first one started is the likeliest.
  const shared = new Map<number, Measurement[][]>(KEY_COUNTS.map((keys) => [keys, []]));
  const clsRuns = new Map<number, Measurement[][]>(KEY_COUNTS.map((keys) => [keys, []]));
  for (let round = 0; round < PROCESSES; round++) {
    const order = round % 2 === 0 ? KEY_COUNTS : [...KEY_COUNTS].reverse();
    for (const keys of order) {
      shared.get(keys)!.push(await runChild(self, { impl: 'shared', keys } satisfies Job));
      clsRuns.get(keys)!.push(await runChild(self, { impl: 'cls-hooked', keys } satisfies Job));
    }
  }
  const dcontextByKeys: [number, Totals][] = [];
  for (const keys of KEY_COUNTS) {
    const sharedRuns = medianProcess(shared.get(keys)!);
    const cls = medianProcess(clsRuns.get(keys)!);
    const rows: Row[] = [DC, ALS_SNAPSHOT, RAW, OTEL, CLS].map((label) => {
      const t = totals(label === CLS ? cls : sharedRuns, label);
      const detail = `capture ${formatNs(t.capture)} + restore ${formatNs(t.restore)}`;
      const note = label === CLS ? `${detail}; own process` : detail;
      return { label, nsPerOp: t.total, spread: t.spread, note };
    });
    dcontextByKeys.push([keys, totals(sharedRuns, DC)]);
    printTable(`${keys} key${keys === 1 ? '' : 's'} set`, rows, { baseline: RAW, subject: DC });
    const ns = (label: string): number => rows.find((row) => row.label === label)!.nsPerOp;
    target(
      `AsyncLocalStorage.snapshot() + call ÷ dcontext snapshot + withContext, ${keys} keys`,
      ns(ALS_SNAPSHOT) / ns(DC),
      '>=',
      10,
    );
  }
  const first = dcontextByKeys[0]![1];
  printTable(
    `dcontext snapshot + withContext by key count (each count in its own processes, median of ${PROCESSES})`,
    dcontextByKeys.map(([keys, t]) => ({
      label: `${keys} key${keys === 1 ? '' : 's'}`,
      nsPerOp: t.total,
      spread: t.spread,
      note: `capture ${formatNs(t.capture)} + restore ${formatNs(t.restore)}`,
    })),
    { baseline: '1 key', ratioHeader: '÷ 1 key' },
  );
  for (const [keys, t] of dcontextByKeys.slice(1)) {
    target(
      `snapshot + withContext, ${keys} keys ÷ 1 key (independent of key count)`,
      t.total / first.total,
      '<=',
      1.2,
    );
  }
}

const job = childJob<Job>();
if (job === undefined) await main();
else reply(job.impl === 'shared' ? await sharedProcess(job.keys) : await clsProcess(job.keys));
