/**
 * Questions: what does a `syncCtx` read cost next to a plain array read, and does a process
 * that uses only `syncCtx` pay anything per promise?
 *
 * The second answer compares the same promise-heavy loop in three processes: one that never
 * loads dcontext, one that loads it and uses only `syncCtx` (the loop runs inside an open sync
 * scope), and one that uses `asyncCtx` (the loop runs inside an async scope, so ALS propagates
 * its store through every promise) — the last shows what the measurement can detect.
 */
import { fileURLToPath } from 'node:url';
import { childJob, nsPerOpInOwnProcesses, reply, runChild } from './support/child.js';
import { loadDcontext, valueAt } from './support/impls.js';
import {
  type BatchTask,
  type Measurement,
  measure,
  median,
  quick,
  spreadPercent,
} from './support/measure.js';
import { printTable, type Row, target } from './support/table.js';

const PROCESSES = ['never-loaded', 'sync-only', 'async-used'] as const;
type PromiseProcess = (typeof PROCESSES)[number];

interface Job {
  readonly impl: 'reads' | PromiseProcess;
}

const KEYS = 10;
const INDEX = 9;
const READS = 1000;
const PROMISE_BATCH = 10;

const SYNC_GET = 'dcontext syncCtx.get(key)';
const TOP_GET = 'dcontext key.get() (no async scope active)';
const PLAIN = 'plain array read: values[i]';
const LABELS: Record<PromiseProcess, string> = {
  'never-loaded': 'process that never loads dcontext',
  'sync-only': 'process that loaded dcontext, uses only syncCtx',
  'async-used': 'process that uses asyncCtx (loop inside a scope)',
};

function found(missing: number): void {
  if (missing !== 0) throw new Error(`${missing} reads found no value`);
}

async function readsProcess(): Promise<Measurement[]> {
  const { dcontext, keys, setAll } = await loadDcontext(KEYS);
  const { syncCtx } = dcontext;
  const key = keys[INDEX]!;
  const values: unknown[] = Array.from({ length: KEYS }, (_, i) => valueAt(i));
  const tasks: BatchTask[] = [
    {
      name: SYNC_GET,
      batch: READS,
      fn: () => {
        let missing = 0;
        for (let i = 0; i < READS; i++) if (syncCtx.get(key) === undefined) missing++;
        found(missing);
      },
    },
    {
      name: TOP_GET,
      batch: READS,
      fn: () => {
        let missing = 0;
        for (let i = 0; i < READS; i++) if (key.get() === undefined) missing++;
        found(missing);
      },
    },
    {
      name: PLAIN,
      batch: READS,
      fn: () => {
        let missing = 0;
        for (let i = 0; i < READS; i++) if (values[INDEX] === undefined) missing++;
        found(missing);
      },
    },
  ];
  using _scope = syncCtx.enterNamedScope('bench');
  setAll();
  return measure(tasks);
}

/** Sequential awaits and a fan-out: the promise traffic of a request handler, and nothing else. */
async function promiseHeavy(): Promise<number> {
  let total = 0;
  for (let i = 0; i < 20; i++) total += await Promise.resolve(i);
  const all = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      await null;
      return i;
    }),
  );
  return total + all.length;
}

const PROMISE_RESULT = 200;

async function promiseProcess(impl: PromiseProcess): Promise<Measurement[]> {
  const task: BatchTask = {
    name: LABELS[impl],
    batch: PROMISE_BATCH,
    fn: async () => {
      for (let i = 0; i < PROMISE_BATCH; i++) {
        if ((await promiseHeavy()) !== PROMISE_RESULT) throw new Error('promiseHeavy is wrong');
      }
    },
  };
  const run = (): Promise<Measurement[]> => measure([task], { async: true, rounds: quick ? 2 : 3 });
  if (impl === 'never-loaded') return run();
  const { dcontext, keys, setAll } = await loadDcontext(KEYS);
  const key = keys[INDEX]!;
  const expected = valueAt(INDEX);
  if (impl === 'sync-only') {
    const { syncCtx } = dcontext;
    // The process uses the sync store (scopes, writes, reads) but never holds a sync scope across
    // an await: dcontext closes one left open at the end of its tick (SCOPE_LEAKED).
    const used = (): unknown =>
      syncCtx.scope('bench', () => {
        setAll();
        return syncCtx.scope('inner', () => {
          syncCtx.set(key, expected);
          return syncCtx.get(key);
        });
      });
    if (used() !== expected) throw new Error('sync-only: the sync store did not work');
    const result = await run();
    if (used() !== expected || dcontext.asyncCtx.isActive()) {
      throw new Error('sync-only: the sync context was lost, or an async scope was opened');
    }
    return result;
  }
  const { asyncCtx } = dcontext;
  return asyncCtx.scope('bench', async () => {
    setAll();
    const result = await run();
    if (asyncCtx.get(key) !== expected) throw new Error('async-used: the async context was lost');
    return result;
  });
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const reads = await runChild<Measurement[]>(self, { impl: 'reads' } satisfies Job);
  console.log('\n### syncCtx\n');
  printTable(
    'Read one key (10 registered, inside a sync scope)',
    reads.map((m) => ({
      label: m.name,
      nsPerOp: m.nsPerOp,
      spread: m.spread,
      ...(m.name === PLAIN ? { note: 'V8 hoists the load out of the loop: the loop alone' } : {}),
    })),
    { baseline: PLAIN, subject: SYNC_GET, ratioHeader: '× plain' },
  );
  const processes = quick ? 1 : 3;
  const runs = await nsPerOpInOwnProcesses(self, PROCESSES, processes);
  const rows: Row[] = PROCESSES.map((impl) => {
    const values = runs.get(impl)!;
    const nsPerOp = median(values);
    return { label: LABELS[impl], nsPerOp, spread: spreadPercent(values, nsPerOp) };
  });
  printTable(
    `Promise-heavy loop (20 awaits + Promise.all of 10 async functions; median of ${processes} process${processes === 1 ? '' : 'es'} each)`,
    rows,
    { baseline: LABELS['never-loaded'], ratioHeader: '× never loaded' },
  );
  const ns = (impl: PromiseProcess): number => rows[PROCESSES.indexOf(impl)]!.nsPerOp;
  target(
    'promise loop, syncCtx-only process ÷ process without dcontext (no promise overhead)',
    ns('sync-only') / ns('never-loaded'),
    '<=',
    1.05,
  );
  console.log(
    `info  promise loop, asyncCtx process ÷ process without dcontext: ${(ns('async-used') / ns('never-loaded')).toFixed(2)}x (what ALS propagation costs per promise on this Node version)`,
  );
}

const job = childJob<Job>();
if (job === undefined) await main();
else reply(job.impl === 'reads' ? await readsProcess() : await promiseProcess(job.impl));
