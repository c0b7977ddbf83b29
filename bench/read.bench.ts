/**
 * Question: what does reading one key cost, with 1, 10 and 50 keys registered?
 *
 * dcontext `get(key)`, `asyncCtx.get(key)` and `key.get()` against what a user writes by hand:
 * an ALS holding `{ values: [...] }` read at a constant slot (`getStore()!.values[9]`, the index
 * a literal in the source) or an object read at a constant property (`getStore()!.key9`); also
 * the raw building block with the index in a closure variable, an ALS holding a Map,
 * OpenTelemetry's `context.active().getValue(k)` and cls-hooked's `ns.get(name)`. Each key count
 * runs in three processes of its own (a registry is frozen once per process; on Node 24 a
 * whole process can read a few ns faster or slower, so each figure is the median process);
 * within one, every implementation but cls-hooked is measured, each inside its own context
 * holding all the keys (and no other implementation's context active). cls-hooked gets a
 * process of its own. The dcontext process uses both stores, as an application does: a sync
 * scope is opened, written and read during setup, so the sync stack has held non-root frames.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { childJob, reply, runChild } from './support/child.js';
import { keyName, loadCls, loadDcontext, loadOtel, loadRaw, valueAt } from './support/impls.js';
import {
  type BatchTask,
  type Measurement,
  measure,
  median,
  quick,
  spreadPercent,
  type TaskGroup,
} from './support/measure.js';
import { printTable, type Row, target } from './support/table.js';

interface Job {
  readonly impl: 'shared' | 'cls-hooked';
  readonly keys: number;
}

const KEY_COUNTS = [1, 10, 50] as const;
/** dcontext and its peers run in this many processes per key count (median process). */
const PROCESSES = quick ? 1 : 3;
const BATCH = 1000;
const DC_TOP = 'dcontext get(key)';
const DC = 'dcontext asyncCtx.get(key)';
const DC_KEY = 'dcontext key.get()';
const SLOT = 'ALS getStore().values[<literal>]';
const PROP = 'ALS getStore().key<literal>';
const RAW = 'raw: ALS getStore() + array slot';
const MAP = 'ALS getStore() + Map.get';
const OTEL = 'OpenTelemetry context.active().getValue(k)';
const CLS = 'cls-hooked ns.get(name)';

/**
 * Each loop counts reads that came back empty instead of storing every value somewhere: a store
 * of a heap value per iteration costs a write barrier (~4 ns here), as much as the raw read.
 */
function found(missing: number): void {
  if (missing !== 0) throw new Error(`${missing} reads found no value`);
}

function expect(label: string, actual: unknown, expected: unknown): void {
  if (actual !== expected)
    throw new Error(`${label} read ${String(actual)}, not ${String(expected)}`);
}

interface HandWritten {
  readonly values: unknown[];
  readonly [name: string]: unknown;
}

/**
 * The reads a user writes by hand, with the slot index and the property name literals in the
 * source (not a closure variable), one function per key count: V8 then folds the index into
 * the load, the fairest baseline there is.
 */
function handWrittenTasks(
  keyCount: number,
  slotAls: AsyncLocalStorage<HandWritten>,
  propAls: AsyncLocalStorage<HandWritten>,
): { slot: BatchTask; prop: BatchTask } {
  const task = (name: string, fn: () => void): BatchTask => ({ name, batch: BATCH, fn });
  switch (keyCount) {
    case 1:
      return {
        slot: task(SLOT, () => {
          let missing = 0;
          for (let i = 0; i < BATCH; i++)
            if (slotAls.getStore()!.values[0] === undefined) missing++;
          found(missing);
        }),
        prop: task(PROP, () => {
          let missing = 0;
          for (let i = 0; i < BATCH; i++) if (propAls.getStore()!.key0 === undefined) missing++;
          found(missing);
        }),
      };
    case 10:
      return {
        slot: task(SLOT, () => {
          let missing = 0;
          for (let i = 0; i < BATCH; i++)
            if (slotAls.getStore()!.values[9] === undefined) missing++;
          found(missing);
        }),
        prop: task(PROP, () => {
          let missing = 0;
          for (let i = 0; i < BATCH; i++) if (propAls.getStore()!.key9 === undefined) missing++;
          found(missing);
        }),
      };
    case 50:
      return {
        slot: task(SLOT, () => {
          let missing = 0;
          for (let i = 0; i < BATCH; i++)
            if (slotAls.getStore()!.values[49] === undefined) missing++;
          found(missing);
        }),
        prop: task(PROP, () => {
          let missing = 0;
          for (let i = 0; i < BATCH; i++) if (propAls.getStore()!.key49 === undefined) missing++;
          found(missing);
        }),
      };
    default:
      throw new Error(`no hand-written read for ${keyCount} keys`);
  }
}

async function sharedProcess(keyCount: number): Promise<Measurement[]> {
  const index = keyCount - 1;
  const name = keyName(index);
  const { dcontext, keys, setAll } = await loadDcontext(keyCount);
  const { arrayAls, array, mapAls, map, AsyncLocalStorage } = await loadRaw(keyCount);
  const otel = await loadOtel(keyCount);
  const { asyncCtx, syncCtx, get } = dcontext;
  const { context } = otel;
  const key = keys[index]!;
  const otelKey = otel.keys[index]!;
  const expected = valueAt(index);
  const read = (label: string, value: unknown): void => expect(label, value, expected);
  // The process uses both stores: the sync stack holds non-root frames for a while.
  syncCtx.scope('setup', () => {
    setAll();
    read('syncCtx.get(key)', syncCtx.get(key));
    read('get(key) in a sync scope', get(key));
    read('key.get() in a sync scope', key.get());
  });
  const slotAls = new AsyncLocalStorage<HandWritten>();
  const slotStore: HandWritten = { values: array.slice() };
  const propAls = new AsyncLocalStorage<HandWritten>();
  const propStore = Object.fromEntries(
    Array.from({ length: keyCount }, (_, i) => [keyName(i), valueAt(i)]),
  ) as unknown as HandWritten;
  const handWritten = handWrittenTasks(keyCount, slotAls, propAls);
  const groups: TaskGroup[] = [
    {
      enter: (fn) =>
        asyncCtx.scope(() => {
          setAll();
          read(DC_TOP, get(key));
          read(DC, asyncCtx.get(key));
          read(DC_KEY, key.get());
          return fn();
        }),
      tasks: [
        {
          name: DC_TOP,
          batch: BATCH,
          fn: () => {
            let missing = 0;
            for (let i = 0; i < BATCH; i++) if (get(key) === undefined) missing++;
            found(missing);
          },
        },
        {
          name: DC,
          batch: BATCH,
          fn: () => {
            let missing = 0;
            for (let i = 0; i < BATCH; i++) if (asyncCtx.get(key) === undefined) missing++;
            found(missing);
          },
        },
        {
          name: DC_KEY,
          batch: BATCH,
          fn: () => {
            let missing = 0;
            for (let i = 0; i < BATCH; i++) if (key.get() === undefined) missing++;
            found(missing);
          },
        },
      ],
    },
    {
      enter: (fn) =>
        slotAls.run(slotStore, () => {
          read(SLOT, slotStore.values[index]);
          return fn();
        }),
      tasks: [handWritten.slot],
    },
    {
      enter: (fn) =>
        propAls.run(propStore, () => {
          read(PROP, propAls.getStore()![name]);
          return fn();
        }),
      tasks: [handWritten.prop],
    },
    {
      enter: (fn) =>
        arrayAls.run(array, () => {
          read(RAW, arrayAls.getStore()![index]);
          return fn();
        }),
      tasks: [
        {
          name: RAW,
          batch: BATCH,
          fn: () => {
            let missing = 0;
            for (let i = 0; i < BATCH; i++)
              if (arrayAls.getStore()![index] === undefined) missing++;
            found(missing);
          },
        },
      ],
    },
    {
      enter: (fn) =>
        mapAls.run(map, () => {
          read(MAP, mapAls.getStore()!.get(name));
          return fn();
        }),
      tasks: [
        {
          name: MAP,
          batch: BATCH,
          fn: () => {
            let missing = 0;
            for (let i = 0; i < BATCH; i++)
              if (mapAls.getStore()!.get(name) === undefined) missing++;
            found(missing);
          },
        },
      ],
    },
    {
      enter: (fn) =>
        context.with(otel.full, () => {
          read(OTEL, context.active().getValue(otelKey));
          return fn();
        }),
      tasks: [
        {
          name: OTEL,
          batch: BATCH,
          fn: () => {
            let missing = 0;
            for (let i = 0; i < BATCH; i++)
              if (context.active().getValue(otelKey) === undefined) missing++;
            found(missing);
          },
        },
      ],
    },
  ];
  return measure(groups);
}

async function clsProcess(keyCount: number): Promise<Measurement[]> {
  const ns = await loadCls();
  const name = keyName(keyCount - 1);
  const tasks: BatchTask[] = [
    {
      name: CLS,
      batch: BATCH,
      fn: () => {
        let missing = 0;
        for (let i = 0; i < BATCH; i++) if (ns.get(name) === undefined) missing++;
        found(missing);
      },
    },
  ];
  return ns.runAndReturn(() => {
    for (let i = 0; i < keyCount; i++) ns.set(keyName(i), valueAt(i));
    expect(CLS, ns.get(name), valueAt(keyCount - 1));
    return measure(tasks);
  });
}

/** Per measurement, the median over processes (spread: the largest of the processes' spreads and their distance from the median). */
function medianProcess(runs: readonly Measurement[][]): Measurement[] {
  return runs[0]!.map(({ name }) => {
    const values = runs.map((run) => nsOf(run, name));
    const nsPerOp = median(values);
    const own = Math.max(...runs.map((run) => run.find((m) => m.name === name)!.spread));
    return { name, nsPerOp, spread: Math.max(own, spreadPercent(values, nsPerOp)) };
  });
}

function nsOf(run: readonly Measurement[], name: string): number {
  return run.find((m) => m.name === name)!.nsPerOp;
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(
    `\n### Read one key\n\nEach key count in ${PROCESSES} process${PROCESSES === 1 ? '' : 'es'}; every figure is the median process, every ratio the median of the per-process ratios.\n`,
  );
  for (const keys of KEY_COUNTS) {
    const runs: Measurement[][] = [];
    for (let i = 0; i < PROCESSES; i++) {
      runs.push(await runChild<Measurement[]>(self, { impl: 'shared', keys } satisfies Job));
    }
    const shared = medianProcess(runs);
    const cls = await runChild<Measurement[]>(self, { impl: 'cls-hooked', keys } satisfies Job);
    const rows: Row[] = [
      ...shared.map((m) => ({ label: m.name, nsPerOp: m.nsPerOp, spread: m.spread })),
      ...cls.map((m) => ({ ...m, label: m.name, note: 'own process' })),
    ];
    printTable(`${keys} registered key${keys === 1 ? '' : 's'} (reading the last one)`, rows, {
      baseline: SLOT,
      subject: DC,
      ratioHeader: '× constant slot',
    });
    // Within a process first: on Node 24 a whole process can read a few ns slower or faster.
    const ratio = (label: string, baseline: string): number =>
      median(runs.map((run) => nsOf(run, label) / nsOf(run, baseline)));
    for (const [label, verb] of [
      [DC_TOP, 'get'],
      [DC, 'asyncCtx.get'],
      [DC_KEY, 'key.get()'],
    ] as const) {
      target(
        `${verb}, ${keys} keys ÷ ALS getStore().values[<literal>]`,
        ratio(label, SLOT),
        '<=',
        1.2,
      );
    }
    target(`asyncCtx.get, ${keys} keys ÷ raw ALS getStore()+array slot`, ratio(DC, RAW), '<=', 1.1);
    target(`asyncCtx.get, ${keys} keys ÷ ALS+Map`, ratio(DC, MAP), '<', 1);
    target(`asyncCtx.get, ${keys} keys ÷ OpenTelemetry`, ratio(DC, OTEL), '<', 1);
  }
}

const job = childJob<Job>();
if (job === undefined) await main();
else reply(job.impl === 'shared' ? await sharedProcess(job.keys) : await clsProcess(job.keys));
