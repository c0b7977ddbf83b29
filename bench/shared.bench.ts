/**
 * Question: what does `dcontext/shared` cost over the raw building blocks?
 *
 * - Uncached `get` / `put` of a typical session record on Redis against raw ioredis `GET` /
 *   `SET` of the same bytes on the same client, with the same call pattern: one caller awaiting
 *   each call, and 50 calls in flight at once (throughput; target >= 0.8x). `get` is measured
 *   twice: re-reading unchanged records (the store's decoded-record memo answers after the round
 *   trip) and with every read decoded (`decodedRecords: 0`, a record changed since the last read).
 * - A cached `get` (ContextCache tier) against raw `GET` (target >= 50x).
 * - A `withShared` round trip (load, run, diff, compare-and-set), on Redis and in memory.
 * - `threeWayMerge` cost against the number of entries (target: linear).
 * - The stored record's size, MessagePack (the wire format) against JSON of the same data.
 *
 * Needs Redis (`REDIS_URL`, default redis://127.0.0.1:6379). Run: `npx tsx bench/shared.bench.ts`
 * (`--quick` for a short run) or `npm run bench -- shared`.
 */
import os from 'node:os';
import { Redis } from 'ioredis';
import { initialize, RegistryBuilder, Snapshot, set, update } from '../src/index.js';
import {
  ContextCache,
  MemoryContextStore,
  RedisContextStore,
  threeWayMerge,
  withShared,
} from '../src/integrations/shared/index.js';
import { encodeRecord } from '../src/integrations/shared/record-codec.js';
import { type BatchTask, measure } from './support/measure.js';

const builder = new RegistryBuilder();
const user = builder.register<{ id: string; roles: string[] }>('user');
const cart = builder.register<{ sku: string; qty: number }[]>('cart', { default: () => [] });
const flags = builder.register<Record<string, boolean>>('flags');
const visits = builder.register<number>('visits', { default: () => 0 });
const locale = builder.register<string>('locale');
const tenant = builder.register<string>('tenant');
const steps = builder.register<string[]>('steps');
const currency = builder.register<string>('currency');
const loginAt = builder.register<number>('login_at');
const plan = builder.register<string>('plan');
initialize(builder);

const session = Snapshot.empty()
  .with(user, { id: 'usr_8f2k3j9x', roles: ['customer', 'beta'] })
  .with(cart, [
    { sku: 'BOOK-123', qty: 1 },
    { sku: 'MUG-9', qty: 2 },
  ])
  .with(flags, { newCheckout: true, darkMode: false, fastSearch: true })
  .with(visits, 12)
  .with(locale, 'en-US')
  .with(tenant, 'acme-corp')
  .with(steps, ['login', 'browse', 'cart'])
  .with(currency, 'EUR')
  .with(loginAt, 1767225600000)
  .with(plan, 'pro');

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench:shared:${process.pid}:`;
const store = new RedisContextStore({ redis, prefix });
// The same records through a store that decodes every read (no decoded-record memo): what a
// read costs when the record changed since this process last read it.
const decoding = new RedisContextStore({ redis, prefix, decodedRecords: 0 });
// The cache reads through a store on its own prefix: its subscription would otherwise receive
// (and charge this process for) every commit the commit rows make.
const cachedStore = new RedisContextStore({ redis, prefix: `${prefix}cached:` });
const cache = new ContextCache(cachedStore, { ttl: 0 });
const memory = new MemoryContextStore();

const IN_FLIGHT = 50;
const ids = Array.from({ length: IN_FLIGHT }, (_, i) => `s${i}`);
const versions = ids.map(() => 0);
for (const [i, id] of ids.entries()) {
  const result = await store.put({ id, entries: session, expectedVersion: 0 });
  if (!result.ok) throw new Error('setup commit failed');
  versions[i] = 1;
}
const record = (await store.get('s0'))!;
const bytes = Buffer.from(encodeRecord(record));
const rawKeys = ids.map((id) => `${prefix}raw:${id}`);
for (const key of rawKeys) await redis.set(key, bytes);
await cachedStore.put({ id: 's0', entries: session, expectedVersion: 0 });
await new Promise((resolve) => setTimeout(resolve, 50)); // the cache's subscription confirms
await cache.get('s0');
await withShared(memory, 'm', () => set(visits, 1));

let sink = 0;
const redisTasks: BatchTask[] = [
  {
    name: 'raw GET (same bytes)',
    batch: IN_FLIGHT,
    fn: async () => {
      const replies = await Promise.all(rawKeys.map((key) => redis.getBuffer(key)));
      sink += replies.length;
    },
  },
  {
    name: 'RedisContextStore.get',
    batch: IN_FLIGHT,
    fn: async () => {
      const records = await Promise.all(ids.map((id) => store.get(id)));
      sink += records.length;
    },
  },
  {
    name: 'RedisContextStore.get, every read decoded',
    batch: IN_FLIGHT,
    fn: async () => {
      const records = await Promise.all(ids.map((id) => decoding.get(id)));
      sink += records.length;
    },
  },
  {
    name: 'raw SET (same bytes)',
    batch: IN_FLIGHT,
    fn: async () => {
      await Promise.all(rawKeys.map((key) => redis.set(key, bytes)));
      sink++;
    },
  },
  {
    name: 'RedisContextStore.put',
    batch: IN_FLIGHT,
    fn: async () => {
      const results = await Promise.all(
        ids.map((id, i) => store.put({ id, entries: session, expectedVersion: versions[i]! })),
      );
      results.forEach((result, i) => {
        if (!result.ok) throw new Error('bench commit lost its compare-and-set');
        versions[i] = result.record.version;
      });
    },
  },
  {
    name: 'raw GET, one caller (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++) sink += (await redis.getBuffer(rawKeys[i]!))!.length;
    },
  },
  {
    name: 'RedisContextStore.get, one caller (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++) sink += (await store.get(ids[i]!))!.version;
    },
  },
  {
    name: 'RedisContextStore.get, every read decoded, one caller (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++) sink += (await decoding.get(ids[i]!))!.version;
    },
  },
  {
    name: 'raw SET, one caller (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++) await redis.set(rawKeys[i]!, bytes);
    },
  },
  {
    name: 'RedisContextStore.put, one caller (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++) {
        const result = await store.put({
          id: ids[i]!,
          entries: session,
          expectedVersion: versions[i]!,
        });
        if (!result.ok) throw new Error('bench commit lost its compare-and-set');
        versions[i] = result.record.version;
      }
    },
  },
  {
    name: 'ContextCache.get (cached)',
    batch: IN_FLIGHT,
    fn: async () => {
      const records = await Promise.all(ids.map(() => cache.get('s0')));
      sink += records.length;
    },
  },
  {
    name: 'withShared round trip, Redis (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++)
        await withShared(store, 'wr', () => update(visits, (v) => v + 1));
    },
  },
  {
    name: 'withShared round trip, memory (x10 in sequence)',
    batch: 10,
    fn: async () => {
      for (let i = 0; i < 10; i++)
        await withShared(memory, 'm', () => update(visits, (v) => v + 1));
    },
  },
];

/** Base, local and remote sides of `n` entries: every 10th changed here, every 7th there. */
function sides(n: number) {
  const base: Record<string, unknown> = {};
  const local: Record<string, unknown> = {};
  const remote: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    base[`k${i}`] = { n: i, tags: ['a', 'b'] };
    local[`k${i}`] = i % 10 === 0 ? { n: -i, tags: ['a'] } : base[`k${i}`];
    remote[`k${i}`] = i % 7 === 0 ? { n: i, tags: ['c'] } : base[`k${i}`];
  }
  return [base, local, remote] as const;
}
const SIZES = [10, 100, 1000];
const mergeTasks: BatchTask[] = SIZES.map((n) => {
  const [base, local, remote] = sides(n);
  return {
    name: `threeWayMerge, ${n} entries`,
    batch: 1,
    fn: () => {
      sink += threeWayMerge(base, local, remote).conflicts.length;
    },
  };
});

const results = [...(await measure(redisTasks, { async: true })), ...(await measure(mergeTasks))];
const ns = new Map(results.map((r) => [r.name, r.nsPerOp]));
const at = (name: string): number => ns.get(name)!;
const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

console.log(`\n## Shared context (${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version})\n`);
console.log('| operation | ns/op | ± | ops/s |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.nsPerOp.toFixed(0)} | ${r.spread.toFixed(0)}% | ${(1e9 / r.nsPerOp).toFixed(0)} |`,
  );
}

const json = JSON.stringify({
  id: record.id,
  version: record.version,
  updatedAt: record.updatedAt,
  updatedBy: record.updatedBy,
  entries: Object.fromEntries(record.entries.entries()),
});
console.log(
  `\nrecord of ${[...record.entries.entries()].length} entries: ${bytes.length} bytes stored (MessagePack, with key versions), ` +
    `${Buffer.byteLength(json)} bytes as JSON of the same data (${((bytes.length / Buffer.byteLength(json)) * 100).toFixed(0)}%)`,
);

const getRatio = at('raw GET (same bytes)') / at('RedisContextStore.get');
const decodedRatio = at('raw GET (same bytes)') / at('RedisContextStore.get, every read decoded');
const decodedOne =
  at('raw GET, one caller (x10 in sequence)') /
  at('RedisContextStore.get, every read decoded, one caller (x10 in sequence)');
const putRatio = at('raw SET (same bytes)') / at('RedisContextStore.put');
const getOne =
  at('raw GET, one caller (x10 in sequence)') /
  at('RedisContextStore.get, one caller (x10 in sequence)');
const putOne =
  at('raw SET, one caller (x10 in sequence)') /
  at('RedisContextStore.put, one caller (x10 in sequence)');
const cachedRatio = at('raw GET, one caller (x10 in sequence)') / at('ContextCache.get (cached)');
const cachedPipelined = at('raw GET (same bytes)') / at('ContextCache.get (cached)');
const perEntry = SIZES.map((n) => at(`threeWayMerge, ${n} entries`) / n);
const linear = perEntry[2]! <= 2 * perEntry[1]!;
const targets: [string, boolean, string][] = [
  ['uncached get >= 0.8x raw GET throughput, one caller', getOne >= 0.8, `${getOne.toFixed(2)}x`],
  [
    'uncached get >= 0.8x raw GET throughput, 50 in flight',
    getRatio >= 0.8,
    `${getRatio.toFixed(2)}x`,
  ],
  [
    '(info) uncached get, every read decoded, one caller / 50 in flight',
    true,
    `${decodedOne.toFixed(2)}x / ${decodedRatio.toFixed(2)}x`,
  ],
  ['uncached put >= 0.8x raw SET throughput, one caller', putOne >= 0.8, `${putOne.toFixed(2)}x`],
  [
    'uncached put >= 0.8x raw SET throughput, 50 in flight',
    putRatio >= 0.8,
    `${putRatio.toFixed(2)}x`,
  ],
  ['cached get >= 50x a raw GET round trip', cachedRatio >= 50, `${cachedRatio.toFixed(0)}x`],
  [
    'cached get >= 50x raw GET, 50 pipelined',
    cachedPipelined >= 50,
    `${cachedPipelined.toFixed(0)}x`,
  ],
  [
    'threeWayMerge linear in entries (ns/entry at 1000 <= 2x at 100)',
    linear,
    perEntry.map((v, i) => `${SIZES[i]}: ${v.toFixed(0)} ns/entry`).join(', '),
  ],
];
console.log('\n| target | result | measured |');
console.log('| --- | --- | ---: |');
const verdict = (label: string, ok: boolean) =>
  label.startsWith('(info)') ? 'info' : ok ? 'PASS' : 'MISS';
for (const [label, ok, measured] of targets)
  console.log(`| ${label} | ${verdict(label, ok)} | ${measured} |`);
for (const [label, ok, measured] of targets)
  if (!label.startsWith('(info)'))
    console.log(`${verdict(label, ok)} shared: ${label} (${measured})`);
console.log(
  `\nwithShared round trip: ${(at('withShared round trip, Redis (x10 in sequence)') / 1000).toFixed(0)} µs on Redis ` +
    `(${x(at('withShared round trip, Redis (x10 in sequence)'), at('raw GET (same bytes)'))} a pipelined raw GET), ` +
    `${(at('withShared round trip, memory (x10 in sequence)') / 1000).toFixed(1)} µs in memory.`,
);

await cache.close();
const keys = await redis.keys(`${prefix}*`);
if (keys.length > 0) await redis.del(...keys);
redis.disconnect();
if (sink === -1) console.log('unreachable');
