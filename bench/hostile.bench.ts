/**
 * Question: how long can one hostile input of up to 64 KiB hold the event loop in `deserialize`
 * and the first read of every key? Target: under 50 ms each, cold (the first decode in a fresh
 * process, before V8 optimizes anything: median of 3 processes) and warm (median of 50 decodes
 * after 20 warm-up decodes), in CPU time, on every supported Node. Wall time is printed beside
 * it (and the slowest warm decode, GC pauses included): on a machine shared with other work it
 * also counts the time the core was given to other processes. Each input is the worst of its kind we know of
 * (issue #10).
 *
 * Run: `npx tsx bench/hostile.bench.ts`; another Node: `/path/to/node --import tsx bench/hostile.bench.ts`.
 */
import { encode } from '@msgpack/msgpack';
import superjson from 'superjson';
import { deserialize, initialize, RegistryBuilder, setMaxContextSize } from '../src/index.js';
import { childJob, reply, runChild } from './support/child.js';

const LIMIT = 64 * 1024;
const TARGET_MS = 50;
const RICH_KEYS = Array.from({ length: 13 }, (_, i) => `rich${i}`);

function registry(): RegistryBuilder {
  const builder = new RegistryBuilder();
  for (const name of RICH_KEYS) builder.register(name, { codec: 'superjson' });
  builder.register('data');
  return builder;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A format-1 message of `[name, codecTag, payload]` entries (version 1), by hand. */
function message(entries: readonly [string, number, Uint8Array][]): Uint8Array {
  const items = entries.length * 3;
  return concat([
    new Uint8Array([1, 0x90, 0xdc, items >> 8, items & 0xff]),
    ...entries.flatMap(([name, tag, payload]) => [encode(name), encode(4 + tag), payload]),
  ]);
}

const superjsonPayload = (json: unknown, meta: unknown): Uint8Array => encode([json, meta]);

/** The largest `n` in [1, max] for which `build(n)` fits the limit. */
function largest(max: number, build: (n: number) => Uint8Array): Uint8Array {
  let low = 1;
  let high = max;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (build(mid).length <= LIMIT) low = mid;
    else high = mid - 1;
  }
  return build(low);
}

/** The largest `n` for which `build(n)` fits and still decodes (the worst accepted input). */
function largestAccepted(max: number, build: (n: number) => Uint8Array): Uint8Array {
  const accepted = (n: number): Uint8Array => {
    const bytes = build(n);
    if (bytes.length > LIMIT) return bytes;
    try {
      deserialize(bytes, { onDecodeError: 'throw' });
      return bytes;
    } catch {
      return new Uint8Array(LIMIT + 1);
    }
  };
  const bytes = largest(max, accepted);
  if (bytes.length > LIMIT) throw new Error('no accepted input of this kind fits the limit');
  return bytes;
}

const INPUTS: Record<string, () => Uint8Array> = {
  // 13 superjson keys whose annotation is a string: superjson recursed until the stack overflowed.
  'values is a string, 13 keys': () =>
    message(RICH_KEYS.map((name) => [name, 1, superjsonPayload(null, { values: 'a' })])),
  'a msgpack key sent a superjson payload': () =>
    message([['data', 1, superjsonPayload(null, { values: 'a' })]]),
  // What superjson writes for a Set of objects sharing one object: each reference walks the Set.
  'references into a Set, as superjson writes them': () =>
    largest(5000, (n) => {
      const shared = { i: 1 };
      const { json, meta } = superjson.serialize({
        owner: shared,
        members: new Set(Array.from({ length: n }, () => ({ shared }))),
      });
      return message([['rich0', 1, superjsonPayload(json, meta)]]);
    }),
  // References to the far end of a large Set, as many as the annotation budget accepts.
  'references at the budget, far into a Set': () =>
    largestAccepted(400, (n) => {
      const size = 15_000;
      const json = { s: Array.from({ length: size }, (_, i) => i), o: {} };
      const paths = Array.from({ length: n }, () => `s.${size - 1}`);
      const meta = { values: { s: ['set'] }, referentialEqualities: { o: paths }, v: 1 };
      return message([['rich0', 1, superjsonPayload(json, meta)]]);
    }),
  // References through an alias another reference made (`s` -> `t`, then `t.<last>`): refused.
  'references through an alias of a large Set': () =>
    largest(8000, (n) => {
      const size = 10_000;
      const json = { s: Array.from({ length: size }, (_, i) => i), t: 0, o: {} };
      const paths = Array.from({ length: n }, () => `t.${size - 1}`);
      const meta = { values: { s: ['set'] }, referentialEqualities: { s: ['t'], o: paths }, v: 1 };
      return message([['rich0', 1, superjsonPayload(json, meta)]]);
    }),
  // Annotation paths as long as a value can be deep (a path must lead to a value in the JSON).
  'annotation paths as deep as the value': () =>
    largestAccepted(4000, (n) => {
      const depth = 29;
      const leaf = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, '1970-01-01']));
      let json: unknown = leaf;
      for (let i = 0; i < depth; i++) json = { a: json };
      const prefix = Array.from({ length: depth }, () => 'a').join('.');
      const values = Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`${prefix}.${i}`, ['Date']]),
      );
      return message([['rich0', 1, superjsonPayload(json, { values, v: 1 })]]);
    }),
  'a Set of Dates, as superjson writes it': () =>
    largest(5000, (n) => {
      const { json, meta } = superjson.serialize(
        new Set(Array.from({ length: n }, (_, i) => new Date(i * 1000))),
      );
      return message([['rich0', 1, superjsonPayload(json, meta)]]);
    }),
  // V8 parses a RegExp at ~1 µs per character cold, nested groups included.
  'a regexp of 60 000 characters (nested groups)': () =>
    message([
      [
        'rich0',
        1,
        superjsonPayload(`/${'('.repeat(30_000)}${')'.repeat(30_000)}/`, {
          values: ['regexp'],
          v: 1,
        }),
      ],
    ]),
  // One annotation node per element: superjson's traverse costs microseconds per node.
  'a Set of empty Sets, one annotation per element': () =>
    largest(20_000, (n) => {
      const { json, meta } = superjson.serialize(
        new Set(Array.from({ length: n }, () => new Set())),
      );
      return message([['rich0', 1, superjsonPayload(json, meta)]]);
    }),
  'a bigint of 60 000 digits': () =>
    message([['rich0', 1, superjsonPayload('9'.repeat(60_000), { values: ['bigint'], v: 1 })]]),
  'a map of 30 000 pairs (MessagePack)': () => {
    const pairs = new Uint8Array(60_000);
    for (let i = 0; i < 30_000; i++) pairs.set([0xa0, 0xc0], i * 2);
    return message([['data', 0, concat([new Uint8Array([0xde, 0x75, 0x30]), pairs])]]);
  },
};

type Job = { input: string; mode: 'cold' | 'warm' };

/**
 * Decodes `bytes` and reads every key; CPU milliseconds of this thread's process (what the
 * event loop is held for on a core of its own: on a shared machine, wall time also counts the
 * time other processes hold the core) and wall milliseconds.
 */
function decodeOnce(bytes: Uint8Array): { cpu: number; wall: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const received = deserialize(bytes, { onDroppedEntry: () => {} });
  for (const name of RICH_KEYS) received.get(name);
  received.get('data');
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / 1000, wall };
}

const job = childJob<Job>();
if (job !== undefined) {
  setMaxContextSize(LIMIT);
  initialize(registry());
  const bytes = INPUTS[job.input]!();
  if (job.mode === 'cold') {
    const { cpu, wall } = decodeOnce(bytes);
    reply({ ms: cpu, wall, bytes: bytes.length });
  } else {
    for (let i = 0; i < 20; i++) decodeOnce(bytes);
    const runs = Array.from({ length: 50 }, () => decodeOnce(bytes));
    const cpu = runs.map((r) => r.cpu).sort((a, b) => a - b);
    const wall = runs.map((r) => r.wall).sort((a, b) => a - b);
    reply({ ms: cpu[25]!, wall: wall[25]!, worst: wall[49]!, bytes: bytes.length });
  }
} else {
  const file = new URL(import.meta.url).pathname;
  console.log(
    `## Hostile inputs: one deserialize + first read of every key (Node ${process.version})\n`,
  );
  console.log(
    '| input | bytes | cold CPU ms | cold wall ms | warm CPU ms | warm wall ms | warm wall, worst of 50 | verdict (CPU) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  const verdicts: string[] = [];
  for (const input of Object.keys(INPUTS)) {
    const colds: { ms: number; wall: number; bytes: number }[] = [];
    for (let i = 0; i < 3; i++) colds.push(await runChild(file, { input, mode: 'cold' }));
    colds.sort((a, b) => a.ms - b.ms);
    const cold = colds[1]!;
    const warm = await runChild<{ ms: number; wall: number; worst: number }>(file, {
      input,
      mode: 'warm',
    });
    const pass = cold.ms < TARGET_MS && warm.ms < TARGET_MS;
    const cells = [cold.ms, cold.wall, warm.ms, warm.wall, warm.worst].map((n) => n.toFixed(2));
    console.log(`| ${input} | ${cold.bytes} | ${cells.join(' | ')} | ${pass ? 'PASS' : 'MISS'} |`);
    verdicts.push(
      `${pass ? 'PASS' : 'MISS'} hostile input under ${TARGET_MS} ms cold and warm: ${input} (${cold.ms.toFixed(1)} / ${warm.ms.toFixed(1)} ms)`,
    );
  }
  console.log('');
  for (const line of verdicts) console.log(line);
}
