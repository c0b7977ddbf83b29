/**
 * Question: what does reading one key cost, with 1, 10 and 50 keys registered?
 *
 * dcontext `asyncCtx.get(key)` against the raw building block (`als.getStore()` + an array
 * slot), an ALS holding a Map, OpenTelemetry's `context.active().getValue(k)` and cls-hooked's
 * `ns.get(name)`. Each key count runs in its own process (a registry is frozen once per process);
 * within it, every implementation but cls-hooked is measured in the same process, each inside
 * its own context holding all the keys (and no other implementation's context active).
 * cls-hooked gets a process of its own.
 */
import { fileURLToPath } from 'node:url';
import { childJob, reply, runChild } from './support/child.js';
import { keyName, loadCls, loadDcontext, loadOtel, loadRaw, valueAt } from './support/impls.js';
import { type BatchTask, type Measurement, measure, type TaskGroup } from './support/measure.js';
import { printTable, type Row, target } from './support/table.js';

interface Job {
  readonly impl: 'shared' | 'cls-hooked';
  readonly keys: number;
}

const KEY_COUNTS = [1, 10, 50] as const;
const BATCH = 1000;
const DC = 'dcontext asyncCtx.get(key)';
const DC_KEY = 'dcontext key.get()';
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

async function sharedProcess(keyCount: number): Promise<Measurement[]> {
  const index = keyCount - 1;
  const name = keyName(index);
  const { dcontext, keys, setAll } = await loadDcontext(keyCount);
  const { arrayAls, array, mapAls, map } = await loadRaw(keyCount);
  const otel = await loadOtel(keyCount);
  const { asyncCtx } = dcontext;
  const { context } = otel;
  const key = keys[index]!;
  const otelKey = otel.keys[index]!;
  const expected = valueAt(index);
  const read = (label: string, value: unknown): void => expect(label, value, expected);
  const groups: TaskGroup[] = [
    {
      enter: (fn) =>
        asyncCtx.scope(() => {
          setAll();
          read(DC, asyncCtx.get(key));
          read(DC_KEY, key.get());
          return fn();
        }),
      tasks: [
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

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log('\n### Read one key\n');
  for (const keys of KEY_COUNTS) {
    const shared = await runChild<Measurement[]>(self, { impl: 'shared', keys } satisfies Job);
    const cls = await runChild<Measurement[]>(self, { impl: 'cls-hooked', keys } satisfies Job);
    const rows: Row[] = [
      ...shared.map((m) => ({ label: m.name, nsPerOp: m.nsPerOp, spread: m.spread })),
      ...cls.map((m) => ({ ...m, label: m.name, note: 'own process' })),
    ];
    printTable(`${keys} registered key${keys === 1 ? '' : 's'} (reading the last one)`, rows, {
      baseline: RAW,
      subject: DC,
    });
    const ns = (label: string): number => rows.find((row) => row.label === label)!.nsPerOp;
    target(
      `asyncCtx.get, ${keys} keys ÷ raw ALS getStore()+array slot`,
      ns(DC) / ns(RAW),
      '<=',
      1.1,
    );
    target(`asyncCtx.get, ${keys} keys ÷ ALS+Map`, ns(DC) / ns(MAP), '<', 1);
    target(`asyncCtx.get, ${keys} keys ÷ OpenTelemetry`, ns(DC) / ns(OTEL), '<', 1);
  }
}

const job = childJob<Job>();
if (job === undefined) await main();
else reply(job.impl === 'shared' ? await sharedProcess(job.keys) : await clsProcess(job.keys));
