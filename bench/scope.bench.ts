/**
 * Question: what does entering and leaving a scope cost, without a write and with one write?
 *
 * Every implementation runs inside its own context holding 10 keys (no other implementation's
 * context active, see measure.ts), and each operation opens a child scope, runs a function in
 * it (empty, or writing one key), and leaves. The raw building block
 * copies the array on entry (the only way to give a child scope its own writable values with a
 * bare ALS); dcontext shares the parent's values and copies on its first write. OpenTelemetry's
 * `context.with(context.active().setValue(k, v), fn)` is the target for the named scope with one
 * write. cls-hooked runs in a process of its own.
 */
import { fileURLToPath } from 'node:url';
import { childJob, reply, runChild } from './support/child.js';
import { keyName, loadCls, loadDcontext, loadOtel, loadRaw, valueAt } from './support/impls.js';
import { type BatchTask, type Measurement, measure, type TaskGroup } from './support/measure.js';
import { printTable, type Row, target } from './support/table.js';

interface Job {
  readonly impl: 'shared' | 'cls-hooked';
}

const KEYS = 10;
const WRITTEN = 3;
const BATCH = 200;
const CHANGED = 'changed';

const DC = 'dcontext asyncCtx.scope(fn)';
const DC_NAMED = "dcontext asyncCtx.scope('request', fn)";
const RAW = 'raw: ALS run(array copy, fn)';
const MAP = 'ALS run(new Map(parent), fn)';
const OTEL = 'OpenTelemetry context.with(context.active(), fn)';
const CLS = 'cls-hooked ns.run(fn)';
const W = ' + 1 write';
const OTEL_W = 'OpenTelemetry context.with(context.active().setValue(k, v), fn)';

function noop(): void {}

function expect(label: string, actual: unknown, expected: unknown): void {
  if (actual !== expected)
    throw new Error(`${label} read ${String(actual)}, not ${String(expected)}`);
}

async function sharedProcess(): Promise<Measurement[]> {
  const { dcontext, keys, setAll } = await loadDcontext(KEYS);
  const { arrayAls, array, mapAls, map } = await loadRaw(KEYS);
  const otel = await loadOtel(KEYS);
  const { asyncCtx } = dcontext;
  const { context } = otel;
  const key = keys[WRITTEN]!;
  const name = keyName(WRITTEN);
  const otelKey = otel.keys[WRITTEN]!;
  const dcWrite = (): void => asyncCtx.set(key, CHANGED);
  const rawWrite = (): void => {
    arrayAls.getStore()![WRITTEN] = CHANGED;
  };
  const mapWrite = (): void => {
    mapAls.getStore()!.set(name, CHANGED);
  };
  const tasks: BatchTask[] = [
    {
      name: DC,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) asyncCtx.scope(noop);
      },
    },
    {
      name: DC_NAMED,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) asyncCtx.scope('request', noop);
      },
    },
    {
      name: RAW,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) arrayAls.run(arrayAls.getStore()!.slice(), noop);
      },
    },
    {
      name: MAP,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) mapAls.run(new Map(mapAls.getStore()), noop);
      },
    },
    {
      name: OTEL,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) context.with(context.active(), noop);
      },
    },
    {
      name: DC + W,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) asyncCtx.scope(dcWrite);
      },
    },
    {
      name: DC_NAMED + W,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) asyncCtx.scope('request', dcWrite);
      },
    },
    {
      name: RAW + W,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) arrayAls.run(arrayAls.getStore()!.slice(), rawWrite);
      },
    },
    {
      name: MAP + W,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) mapAls.run(new Map(mapAls.getStore()), mapWrite);
      },
    },
    {
      name: OTEL_W,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++)
          context.with(context.active().setValue(otelKey, CHANGED), noop);
      },
    },
  ];
  const only = (...names: string[]): BatchTask[] =>
    tasks.filter((task) => names.includes(task.name));
  const expected = valueAt(WRITTEN);
  const groups: TaskGroup[] = [
    {
      enter: (fn) =>
        asyncCtx.scope('outer', () => {
          setAll();
          // The write lands in the child scope only.
          asyncCtx.scope('request', () => {
            dcWrite();
            expect(DC_NAMED + W, asyncCtx.get(key), CHANGED);
          });
          expect(DC, asyncCtx.get(key), expected);
          return fn();
        }),
      tasks: only(DC, DC_NAMED, DC + W, DC_NAMED + W),
    },
    {
      enter: (fn) =>
        arrayAls.run(array, () => {
          arrayAls.run(arrayAls.getStore()!.slice(), rawWrite);
          expect(RAW, arrayAls.getStore()![WRITTEN], expected);
          return fn();
        }),
      tasks: only(RAW, RAW + W),
    },
    {
      enter: (fn) =>
        mapAls.run(map, () => {
          mapAls.run(new Map(mapAls.getStore()), mapWrite);
          expect(MAP, mapAls.getStore()!.get(name), expected);
          return fn();
        }),
      tasks: only(MAP, MAP + W),
    },
    {
      enter: (fn) =>
        context.with(otel.full, () => {
          context.with(context.active().setValue(otelKey, CHANGED), () =>
            expect(OTEL_W, context.active().getValue(otelKey), CHANGED),
          );
          expect(OTEL, context.active().getValue(otelKey), expected);
          return fn();
        }),
      tasks: only(OTEL, OTEL_W),
    },
  ];
  return measure(groups);
}

async function clsProcess(): Promise<Measurement[]> {
  const ns = await loadCls();
  const name = keyName(WRITTEN);
  const clsWrite = (): void => {
    ns.set(name, CHANGED);
  };
  const tasks: BatchTask[] = [
    {
      name: CLS,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ns.run(noop);
      },
    },
    {
      name: CLS + W,
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) ns.run(clsWrite);
      },
    },
  ];
  return ns.runAndReturn(() => {
    for (let i = 0; i < KEYS; i++) ns.set(keyName(i), valueAt(i));
    ns.run(clsWrite);
    expect(CLS, ns.get(name), valueAt(WRITTEN));
    return measure(tasks);
  });
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const shared = await runChild<Measurement[]>(self, { impl: 'shared' } satisfies Job);
  const cls = await runChild<Measurement[]>(self, { impl: 'cls-hooked' } satisfies Job);
  const all: Row[] = [
    ...shared.map((m) => ({ label: m.name, nsPerOp: m.nsPerOp, spread: m.spread })),
    ...cls.map((m) => ({
      label: m.name,
      nsPerOp: m.nsPerOp,
      spread: m.spread,
      note: 'own process',
    })),
  ];
  const ns = (label: string): number => all.find((row) => row.label === label)!.nsPerOp;
  const notes: Record<string, string> = {
    [OTEL]: 'ALS skips run() for the active store',
  };
  const pick = (labels: readonly string[]): Row[] =>
    labels.map((label) => {
      const row = all.find((candidate) => candidate.label === label)!;
      const note = notes[label] ?? row.note;
      return note === undefined ? row : { ...row, note };
    });
  console.log(`\n### Scope enter + exit (inside a context of ${KEYS} keys)\n`);
  printTable('No write', pick([DC, DC_NAMED, RAW, MAP, OTEL, CLS]), {
    baseline: RAW,
    subject: DC_NAMED,
  });
  printTable(
    'One write inside the scope',
    pick([DC + W, DC_NAMED + W, RAW + W, MAP + W, OTEL_W, CLS + W]),
    { baseline: RAW + W, subject: DC_NAMED + W },
  );
  target(
    'named scope + 1 write ÷ OpenTelemetry context.with(setValue)',
    ns(DC_NAMED + W) / ns(OTEL_W),
    '<=',
    1,
  );
}

const job = childJob<Job>();
if (job === undefined) await main();
else reply(job.impl === 'shared' ? await sharedProcess() : await clsProcess());
