import { encode } from '@msgpack/msgpack';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  initialize,
  isDContextError,
  RegistryBuilder,
  Snapshot,
  set,
  update,
} from '../../../src/index.js';
import { RedisContextStore, withShared } from '../../../src/integrations/shared/index.js';
import { sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const cart = builder.register<string[]>('cart', { default: () => [] });
const visits = builder.register<number>('visits', { default: () => 0 });
const theme = builder.register<string>('theme', { validate: (v) => typeof v === 'string' });
beforeAll(() => initialize(builder));

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:shared:${process.pid}:${Date.now()}:`;
const redis = new Redis(url);
const store = new RedisContextStore({ redis, prefix });
let n = 0;
const fresh = () => `ctx-${++n}`;
const keyOf = (id: string) => `${prefix}{${id}}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Wire bytes by hand: format 1, no scope chain, `[name, header, payload]` entries. */
function wire(...entries: [string, number, unknown][]): Uint8Array {
  return Buffer.concat([encode(1), encode([]), encode(entries.flat())]);
}
/** Stores a hand-made record for `id` as another writer (or a corrupted disk) would leave it. */
async function plant(id: string, record: unknown[] | Buffer, version = 1) {
  const bytes = Buffer.isBuffer(record) ? record : Buffer.from(encode(record));
  await redis.hset(keyOf(id), 'v', String(version), 'r', bytes);
}

describe('RedisContextStore', () => {
  it('commits with compare-and-set: the next version when the expected one matches, else the current record', async () => {
    const id = fresh();
    const entries = Snapshot.empty().with(visits, 1);
    const first = await store.put({ id, entries, expectedVersion: 0, updatedBy: 'a' });
    expect(first.ok && [first.record.version, first.record.updatedBy]).toEqual([1, 'a']);
    const stale = await store.put({ id, entries: entries.with(visits, 9), expectedVersion: 0 });
    expect(stale.ok).toBe(false);
    expect(!stale.ok && stale.current?.entries.get(visits)).toBe(1);
    const second = await store.put({ id, entries: entries.with(visits, 2), expectedVersion: 1 });
    expect(second.ok).toBe(true);
    const record = await store.get(id);
    expect([record?.version, record?.entries.get(visits)]).toEqual([2, 2]);
  });

  it('getMany and putMany are pipelined and keep the order given', async () => {
    const [a, b] = [fresh(), fresh()];
    const entries = Snapshot.empty().with(cart, ['x']);
    const results = await store.putMany([
      { id: a, entries, expectedVersion: 0 },
      { id: b, entries, expectedVersion: 0 },
      { id: a, entries: entries.with(cart, ['y']), expectedVersion: 1 },
      { id: b, entries, expectedVersion: 0 },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
    const records = await store.getMany([a, b, 'missing']);
    expect(records.map((r) => r?.version)).toEqual([2, 1, undefined]);
    expect(records[0]?.entries.get(cart)).toEqual(['y']);
    expect(await store.getMany([])).toEqual([]);
  });

  it('getMany and putMany send one pipeline per batch, not one call per id', async () => {
    const calls: string[] = [];
    // The real client, with every method call on it recorded.
    const counted = new Proxy(redis, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return value.apply(target, args);
        };
      },
    });
    const batched = new RedisContextStore({ redis: counted, prefix });
    const ids = Array.from({ length: 50 }, () => fresh());
    const results = await batched.putMany(
      ids.map((id) => ({ id, entries: Snapshot.empty().with(visits, 1), expectedVersion: 0 })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const records = await batched.getMany(ids);
    expect(records.every((r) => r?.version === 1)).toBe(true);
    expect(calls).toEqual(['pipeline', 'pipeline']);
  });

  it('keeps the last N versions; rollback commits an old version as the newest', async () => {
    const small = new RedisContextStore({ redis, prefix, historySize: 3 });
    const id = fresh();
    for (let i = 1; i <= 5; i++) await withShared(small, id, () => set(visits, i));
    expect((await small.history(id)).map((r) => [r.version, r.entries.get(visits)])).toEqual([
      [5, 5],
      [4, 4],
      [3, 3],
    ]);
    // Bounded in Redis too: three history slots beside the version and the current record.
    expect((await redis.hkeys(keyOf(id))).filter((field) => field.startsWith('h'))).toHaveLength(3);
    const rolled = await small.rollback(id, 3);
    expect([rolled.version, rolled.entries.get(visits)]).toEqual([6, 3]);
    expect(isDContextError(await small.rollback(id, 1).catch((e) => e), 'INVALID_ARGUMENT')).toBe(
      true,
    );
  });

  it('historySize and ttl of Infinity keep every version, forever', async () => {
    const unbounded = new RedisContextStore({
      redis,
      prefix,
      historySize: Infinity,
      ttl: Infinity,
    });
    const id = fresh();
    for (let i = 1; i <= 12; i++) await withShared(unbounded, id, () => set(visits, i));
    const history = await unbounded.history(id);
    expect(history.map((r) => r.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(await redis.pttl(keyOf(id))).toBe(-1);
  });

  it('sets the ttl on the context and its history; delete removes them', async () => {
    const expiring = new RedisContextStore({ redis, prefix, ttl: 60_000 });
    const id = fresh();
    await withShared(expiring, id, () => set(visits, 1));
    expect(await redis.pttl(keyOf(id))).toBeGreaterThan(50_000);
    await expiring.delete(id);
    expect(await redis.exists(keyOf(id))).toBe(0);
    expect(await expiring.get(id)).toBeUndefined();
  });

  it('withShared merges writers of different keys on Redis', async () => {
    const id = fresh();
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await sleep(Math.random() * 10);
        await withShared(
          store,
          id,
          async () => {
            await sleep(Math.random() * 5);
            if (i % 2) update(cart, (c) => [...c, `i${i}`]);
            else set(theme, `t${i}`);
          },
          {
            onConflict: (c) =>
              c.key === 'cart'
                ? [...new Set([...(c.remote as string[]), ...(c.local as string[])])]
                : c.local,
            retries: 100,
          },
        );
      }),
    );
    const record = await store.get(id);
    expect(record?.version).toBe(20);
    expect([...record!.entries.get(cart)].sort()).toEqual([
      'i1',
      'i11',
      'i13',
      'i15',
      'i17',
      'i19',
      'i3',
      'i5',
      'i7',
      'i9',
    ]);
  });
});

describe('bad records in Redis get typed errors, and nothing is half-written', () => {
  it('a record that is not MessagePack, or not a record, is DECODE_FAILED', async () => {
    const id = fresh();
    await plant(id, Buffer.from([0xc1, 0xff, 0x00]));
    const error = await store.get(id).catch((e) => e);
    expect(isDContextError(error, 'DECODE_FAILED')).toBe(true);
    expect(error.message).toContain(`'${id}' has a corrupt stored record`);
    await plant(id, ['not', 'a', 'record']);
    expect(isDContextError(await store.get(id).catch((e) => e), 'DECODE_FAILED')).toBe(true);
    // A write on top of it fails the same way and leaves the bytes as they were.
    const before = await redis.hgetBuffer(keyOf(id), 'r');
    const write = await withShared(store, id, () => set(visits, 1)).catch((e) => e);
    expect(isDContextError(write, 'DECODE_FAILED')).toBe(true);
    expect(await redis.hgetBuffer(keyOf(id), 'r')).toEqual(before);
  });

  it('a record in a newer record format is DECODE_FAILED saying to upgrade', async () => {
    const id = fresh();
    await plant(id, [2, id, 1, Date.now(), 'future', wire()]);
    const error = await store.get(id).catch((e) => e);
    expect(isDContextError(error, 'DECODE_FAILED')).toBe(true);
    expect(error.message).toMatch(/newer dcontext.*upgrade/);
  });

  it('an entry failing its key’s validate, or a corrupt entry, is DECODE_FAILED naming the key', async () => {
    const id = fresh();
    await plant(id, [1, id, 1, Date.now(), 'x', wire(['theme', 4, 42])]);
    const error = await store.get(id).catch((e) => e);
    expect(isDContextError(error, 'DECODE_FAILED')).toBe(true);
    expect(error.key).toBe('theme');
    await plant(id, [1, id, 1, Date.now(), 'x', Buffer.from([1, 2, 3])]);
    expect(isDContextError(await store.get(id).catch((e) => e), 'DECODE_FAILED')).toBe(true);
    await plant(id, [1, 'other-id', 1, Date.now(), 'x', wire()]);
    expect((await store.get(id).catch((e) => e)).message).toContain('record of "other-id"');
  });

  it('a record read again unchanged is not decoded again, but a corrupt one fails every read', async () => {
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    const first = await store.get(id);
    expect(await store.get(id)).toBe(first);
    expect((await store.getMany([id]))[0]).toBe(first);
    // Another writer leaves a bad value: the kept record is not served for the new bytes.
    await plant(id, [1, id, 2, Date.now(), 'x', wire(['theme', 4, 42])], 2);
    for (let i = 0; i < 2; i++) {
      expect(isDContextError(await store.get(id).catch((e) => e), 'DECODE_FAILED')).toBe(true);
    }
    const uncached = new RedisContextStore({ redis, prefix, decodedRecords: 0 });
    await uncached.delete(id);
    await withShared(uncached, id, () => set(visits, 2));
    const a = await uncached.get(id);
    const b = await uncached.get(id);
    expect(a).not.toBe(b);
    expect([a?.version, b?.entries.get(visits)]).toEqual([1, 2]);
    expect((await store.get(id))?.entries.get(visits)).toBe(2);
    expect(() => new RedisContextStore({ redis, decodedRecords: -1 })).toThrow(/decodedRecords/);
  });

  it('entries of keys this process does not know, or of newer key versions, are kept through a commit', async () => {
    const id = fresh();
    await plant(id, [
      1,
      id,
      1,
      Date.now(),
      'newer-service',
      wire(['loyalty_tier', 4, 'gold'], ['theme', 8, 'v2-theme']),
    ]);
    await withShared(store, id, () => set(visits, 7));
    const bytes = await redis.hgetBuffer(keyOf(id), 'r');
    const record = await store.get(id);
    expect(record?.version).toBe(2);
    expect(record?.entries.get(visits)).toBe(7);
    expect(Buffer.from(bytes!).includes(Buffer.from('loyalty_tier'))).toBe(true);
    expect(Buffer.from(bytes!).includes(Buffer.from('v2-theme'))).toBe(true);
  });

  it('an unreachable Redis is STORE_UNAVAILABLE; a value too large for the wire is CONTEXT_TOO_LARGE, unsent', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const offline = new RedisContextStore({ redis: down, prefix });
    for (const call of [
      () => offline.get('x'),
      () => offline.getMany(['x', 'y']),
      () => offline.put({ id: 'x', entries: Snapshot.empty(), expectedVersion: 0 }),
      () => offline.putMany([{ id: 'x', entries: Snapshot.empty(), expectedVersion: 0 }]),
      () => offline.history('x'),
    ]) {
      expect(isDContextError(await call().catch((e) => e), 'STORE_UNAVAILABLE')).toBe(true);
    }
    down.disconnect();
    const id = fresh();
    const huge = await withShared(store, id, () => set(theme, 'x'.repeat(100_000))).catch((e) => e);
    expect(isDContextError(huge, 'CONTEXT_TOO_LARGE')).toBe(true);
    expect(await redis.exists(keyOf(id))).toBe(0);
  });

  it('checks its options with INVALID_ARGUMENT', () => {
    expect(() => new RedisContextStore({} as never)).toThrow(/ioredis client/);
    expect(() => new RedisContextStore({ redis, ttl: -1 })).toThrow(/ttl/);
    expect(() => new RedisContextStore({ redis, historySize: 0 })).toThrow(/historySize/);
  });
});

describe('commit announcements', () => {
  it('another client subscribed to the prefix hears every commit and delete', async () => {
    const other = new Redis(url);
    const listener = new RedisContextStore({ redis: other, prefix });
    const heard: [string, number][] = [];
    const subscription = await listener.subscribe({
      onCommit: (id, version) => heard.push([id, version]),
    });
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    await withShared(store, id, () => set(visits, 2));
    await store.delete(id);
    for (let i = 0; i < 100 && heard.length < 3; i++) await sleep(10);
    expect(heard).toEqual([
      [id, 1],
      [id, 2],
      [id, 0],
    ]);
    await subscription.close();
    other.disconnect();
  });
});
