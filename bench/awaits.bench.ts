/**
 * Question: what does context cost across `await`s? One request: enter a scope, write one key,
 * await 10 times, read the key back.
 *
 * Propagation through promises is where the implementations' hooks run, and hooks are
 * process-wide: each implementation therefore runs in a process of its own, alone with its
 * hooks ("no context" loads nothing). The processes run one after another, several times in
 * alternating order, and each implementation keeps its median process.
 */
import { fileURLToPath } from 'node:url';
import { childJob, nsPerOpInOwnProcesses, reply } from './support/child.js';
import { keyName, loadCls, loadDcontext, loadOtel, loadRaw } from './support/impls.js';
import {
  type BatchTask,
  type Measurement,
  measure,
  median,
  quick,
  spreadPercent,
} from './support/measure.js';
import { printTable, type Row, target } from './support/table.js';

const IMPLEMENTATIONS = ['none', 'raw', 'map', 'dcontext', 'otel', 'cls-hooked'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

interface Job {
  readonly impl: Implementation;
}

const LABELS: Record<Implementation, string> = {
  none: 'no context (plain async function)',
  raw: 'raw: ALS run(array) + getStore()[i]',
  map: 'ALS run(Map) + getStore().get(k)',
  dcontext: "dcontext asyncCtx.scope('request', fn) + set + get",
  otel: 'OpenTelemetry context.with(setValue) + getValue',
  'cls-hooked': 'cls-hooked ns.runPromise(fn) + set + get',
};

const KEYS = 10;
const INDEX = 3;
const AWAITS = 10;
const VALUE = 'request-1';
const BATCH = 20;

type Request = () => Promise<unknown>;

async function requestFor(impl: Implementation): Promise<Request> {
  const name = keyName(INDEX);
  switch (impl) {
    case 'none':
      return async () => {
        for (let i = 0; i < AWAITS; i++) await null;
        return VALUE;
      };
    case 'raw': {
      const { arrayAls } = await loadRaw(KEYS);
      const empty = new Array<unknown>(KEYS).fill(undefined);
      const body = async (): Promise<unknown> => {
        for (let i = 0; i < AWAITS; i++) await null;
        return arrayAls.getStore()![INDEX];
      };
      return () => {
        const store = empty.slice();
        store[INDEX] = VALUE;
        return arrayAls.run(store, body);
      };
    }
    case 'map': {
      const { mapAls } = await loadRaw(KEYS);
      const body = async (): Promise<unknown> => {
        for (let i = 0; i < AWAITS; i++) await null;
        return mapAls.getStore()!.get(name);
      };
      return () => mapAls.run(new Map([[name, VALUE]]), body);
    }
    case 'dcontext': {
      const { dcontext, keys } = await loadDcontext(KEYS);
      const { asyncCtx } = dcontext;
      const key = keys[INDEX]!;
      const body = async (): Promise<unknown> => {
        asyncCtx.set(key, VALUE);
        for (let i = 0; i < AWAITS; i++) await null;
        return asyncCtx.get(key);
      };
      return () => asyncCtx.scope('request', body);
    }
    case 'otel': {
      const { context, keys } = await loadOtel(KEYS);
      const key = keys[INDEX]!;
      const body = async (): Promise<unknown> => {
        for (let i = 0; i < AWAITS; i++) await null;
        return context.active().getValue(key);
      };
      return () => context.with(context.active().setValue(key, VALUE), body);
    }
    case 'cls-hooked': {
      const ns = await loadCls();
      const body = async (): Promise<unknown> => {
        ns.set(name, VALUE);
        for (let i = 0; i < AWAITS; i++) await null;
        return ns.get(name);
      };
      return () => ns.runPromise(body);
    }
  }
}

async function child(impl: Implementation): Promise<Measurement[]> {
  const request = await requestFor(impl);
  if ((await request()) !== VALUE)
    throw new Error(`${impl}: the read after ${AWAITS} awaits failed`);
  const task: BatchTask = {
    name: LABELS[impl],
    batch: BATCH,
    fn: async () => {
      let missing = 0;
      for (let i = 0; i < BATCH; i++) if ((await request()) !== VALUE) missing++;
      if (missing !== 0) throw new Error(`${impl}: ${missing} reads lost the context`);
    },
  };
  return measure([task], { async: true, rounds: quick ? 2 : 3 });
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  // Five: run-to-run noise here is ±2–3%, as large as the 1.05x target's margin.
  const processes = quick ? 1 : 5;
  const runs = await nsPerOpInOwnProcesses(self, IMPLEMENTATIONS, processes);
  const rows: Row[] = IMPLEMENTATIONS.map((impl) => {
    const values = runs.get(impl)!;
    const nsPerOp = median(values);
    return {
      label: LABELS[impl],
      nsPerOp,
      spread: spreadPercent(values, nsPerOp),
      note: 'own process',
    };
  });
  console.log(`\n### ${AWAITS} sequential awaits inside a scope, then a read\n`);
  printTable(
    `One request = scope + 1 write + ${AWAITS} × \`await null\` + 1 read (median of ${processes} process${processes === 1 ? '' : 'es'} each)`,
    rows,
    { baseline: LABELS.raw, subject: LABELS.dcontext },
  );
  const ns = (impl: Implementation): number => rows[IMPLEMENTATIONS.indexOf(impl)]!.nsPerOp;
  target(`${AWAITS} awaits in a scope, dcontext ÷ raw ALS`, ns('dcontext') / ns('raw'), '<=', 1.05);
}

const job = childJob<Job>();
if (job === undefined) await main();
else reply(await child(job.impl));
