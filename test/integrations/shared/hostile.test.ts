/**
 * A hostile caller: records planted in Redis under the store's keys, a loader and options that
 * misbehave, and a cache closed while writes are in flight. Each failure must be a typed
 * DContextError, and no store is left half-written.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  initialize,
  isDContextError,
  RegistryBuilder,
  Snapshot,
  set,
  update,
} from '../../../src/index.js';
import {
  ContextCache,
  MemoryContextStore,
  RedisContextStore,
  type SharedContextStore,
  withShared,
} from '../../../src/integrations/shared/index.js';
import { encodeRecord } from '../../../src/integrations/shared/record-codec.js';

const builder = new RegistryBuilder();
const visits = builder.register<number>('visits', { default: () => 0 });
const label = builder.register<string>('hostile_label', {
  validate: (v) => typeof v === 'string',
});
const counters = Array.from({ length: 8 }, (_, i) =>
  builder.register<number>(`hostile_w${i}`, { default: () => 0 }),
);
beforeAll(() => initialize(builder));

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:shared-hostile:${process.pid}:${Date.now()}:`;
const redis = new Redis(url);
const store = new RedisContextStore({ redis, prefix });
let n = 0;
const fresh = () => `h-${++n}`;
const keyOf = (id: string) => `${prefix}{${id}}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Plants a valid record of `version` for `id`, as a long-lived context would hold. */
async function plantVersion(id: string, version: number) {
  const bytes = encodeRecord({
    id,
    entries: Snapshot.empty().with(visits, 1),
    version,
    updatedAt: 1,
    updatedBy: 'old',
  });
  await redis.hset(keyOf(id), 'v', String(version), 'r', Buffer.from(bytes));
}

async function failure(promise: Promise<unknown>): Promise<DContextError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDContextError(error), String(error)).toBe(true);
  return error as DContextError;
}

describe('RedisContextStore against records planted in Redis', () => {
  it('keeps committing past version 10^14 (the stored version is not written in exponent notation)', async () => {
    const id = fresh();
    const old = 99_999_999_999_999;
    await plantVersion(id, old);
    const first = await store.put({
      id,
      entries: Snapshot.empty().with(visits, 2),
      expectedVersion: old,
    });
    expect(first.ok).toBe(true);
    const second = await store.put({
      id,
      entries: Snapshot.empty().with(visits, 3),
      expectedVersion: old + 1,
    });
    expect(second.ok && second.record.version).toBe(old + 2);
    expect(await redis.hget(keyOf(id), 'v')).toBe(String(old + 2));
  });

  it('refuses a write whose next version would not be a safe integer, before writing anything', async () => {
    const id = fresh();
    await plantVersion(id, Number.MAX_SAFE_INTEGER);
    const before = await redis.hgetBuffer(keyOf(id), 'r');
    const error = await failure(
      store.put({
        id,
        entries: Snapshot.empty().with(visits, 2),
        expectedVersion: Number.MAX_SAFE_INTEGER,
      }),
    );
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(await redis.hgetBuffer(keyOf(id), 'r')).toEqual(before);
    expect((await store.get(id))?.version).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rolls a context whose current record is corrupt back to a kept version, as the error says', async () => {
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    await withShared(store, id, () => set(visits, 2));
    await redis.hset(keyOf(id), 'r', Buffer.from([0x96, 1, 2]));
    const error = await failure(store.get(id));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toContain('rollback()');
    const back = await store.rollback(id, 1);
    expect([back.version, back.entries.get(visits)]).toEqual([3, 1]);
    expect((await store.get(id))?.version).toBe(3);
  });

  it('reports a version field that disagrees with the record as DECODE_FAILED instead of retrying forever, and rollback repairs it', async () => {
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    await redis.hset(keyOf(id), 'v', '7'); // the record still says version 1
    const viaShared = await failure(
      withShared(store, id, () => set(visits, 2), { retries: Number.POSITIVE_INFINITY }),
    );
    expect(viaShared.code).toBe('DECODE_FAILED');
    // rollback compares against the version field, so it repairs the context.
    const back = await store.rollback(id, 1);
    expect([back.version, back.entries.get(visits)]).toEqual([8, 1]);
    expect((await store.get(id))?.version).toBe(8);
  });

  it('reports a key of the wrong Redis type as DECODE_FAILED, not as Redis being unreachable', async () => {
    const id = fresh();
    await redis.set(keyOf(id), 'not a hash');
    expect((await failure(store.get(id))).code).toBe('DECODE_FAILED');
    expect(
      (await failure(store.put({ id, entries: Snapshot.empty(), expectedVersion: 0 }))).code,
    ).toBe('DECODE_FAILED');
    expect(await redis.get(keyOf(id))).toBe('not a hash');
  });
});

describe('RedisContextStore with garbage written into history slots', () => {
  it('history() is DECODE_FAILED, while get, withShared and the history trim keep working', async () => {
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    // History slots are hash fields h<version mod historySize>: garbage where 5 and 6 will go.
    await redis.hset(keyOf(id), 'h5', 'garbage', 'h6', Buffer.from([0xc1]));
    expect((await failure(store.history(id))).code).toBe('DECODE_FAILED');
    expect((await failure(store.rollback(id, 1))).code).toBe('DECODE_FAILED');
    for (let i = 2; i <= 12; i++) await withShared(store, id, () => set(visits, i));
    expect((await store.get(id))?.entries.get(visits)).toBe(12);
    // Versions 5 and 6 took those slots: history reads again.
    expect((await store.history(id)).map((r) => r.version)).toEqual([
      12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
    ]);
  });
});

describe('ContextCache read-through against a misbehaving loader', () => {
  const readThrough = (loader: (id: string) => unknown) =>
    new ContextCache(new MemoryContextStore(), {
      strategy: 'read-through',
      loader: loader as never,
    });

  it('turns a loader that throws into STORE_UNAVAILABLE with the cause, and loads again next time', async () => {
    let calls = 0;
    const cache = readThrough(() => {
      calls++;
      if (calls === 1) throw new Error('backend down');
      return { entries: Snapshot.empty().with(visits, 4) };
    });
    const error = await failure(cache.get('a'));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect((error.cause as Error).message).toBe('backend down');
    expect((await cache.get('a'))?.entries.get(visits)).toBe(4);
    await cache.close();
  });

  it('refuses what a loader returns when it is not { entries: Snapshot } (null, a number) with INVALID_ARGUMENT', async () => {
    for (const garbage of [null, 42, { entries: 'x' }]) {
      const cache = readThrough(() => garbage);
      const error = await failure(cache.get('a'));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('loader');
      await cache.close();
    }
  });
});

/** A memory store whose putMany waits until `release()`. */
function gatedStore() {
  const inner = new MemoryContextStore();
  let open!: () => void;
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const gated: SharedContextStore = {
    get: (id) => inner.get(id),
    getMany: (ids) => inner.getMany(ids),
    put: (write) => inner.put(write),
    putMany: async (writes) => {
      await gate;
      return inner.putMany(writes);
    },
    history: (id) => inner.history(id),
    rollback: (id, version) => inner.rollback(id, version),
    delete: (id) => inner.delete(id),
  };
  return {
    inner,
    gated,
    release: () => {
      open();
      gate = Promise.resolve();
    },
  };
}

describe('ContextCache write-behind close()', () => {
  it('a second close() waits for the first one to flush, and rejects like it', async () => {
    const { inner, gated, release } = gatedStore();
    const cache = new ContextCache(gated, { strategy: 'write-behind', flushInterval: 1 });
    await cache.put({ id: 'w', entries: Snapshot.empty().with(visits, 1), expectedVersion: 0 });
    const first = cache.close();
    let secondDone = false;
    const second = cache.close().then(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(secondDone).toBe(false);
    release();
    await Promise.all([first, second]);
    expect((await inner.get('w'))?.version).toBe(1);
  });

  it('never acknowledges a write that close() will not flush: every acknowledged write is stored', async () => {
    for (let round = 0; round < 20; round++) {
      const inner = new MemoryContextStore();
      const slowGet: SharedContextStore = {
        ...Object.fromEntries(
          (['getMany', 'put', 'putMany', 'history', 'rollback', 'delete'] as const).map((m) => [
            m,
            (...args: unknown[]) => (inner[m] as (...a: unknown[]) => unknown)(...args),
          ]),
        ),
        get: async (id: string) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          return inner.get(id);
        },
      } as SharedContextStore;
      const cache = new ContextCache(slowGet, {
        strategy: 'write-behind',
        maxQueue: 1,
        flushInterval: 1,
      });
      const acknowledged: string[] = [];
      const writes = Array.from({ length: 6 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        const result = await cache.put({
          id: `id-${i}`,
          entries: Snapshot.empty().with(visits, i),
          expectedVersion: 0,
        });
        if (result.ok) acknowledged.push(`id-${i}`);
      });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 6));
      await cache.close().catch(() => {});
      const outcomes = await Promise.allSettled(writes);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          expect(isDContextError(outcome.reason, 'CLOSED')).toBe(true);
      }
      for (const id of acknowledged) expect((await inner.get(id))?.version, id).toBe(1);
    }
  });
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ContextCache over Redis, against forged announcements and concurrent writers', () => {
  it('survives messages forged on the commit channel by another client: no crash, never a wrong record', async () => {
    const id = fresh();
    const cache = new ContextCache(new RedisContextStore({ redis, prefix }), { ttl: 0 });
    await pause(50); // subscribed
    await withShared(cache, id, () => set(visits, 1));
    const forger = new Redis(url);
    for (const message of [
      '',
      ' ',
      'abc',
      `-5 ${id}`,
      `1e400 ${id}`,
      `NaN ${id}`,
      `3.5 ${id}`,
      `0 ${'x'.repeat(100_000)}`,
      `99999999999 ${id}`,
      `2 ${id} trailing`,
      Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'),
    ]) {
      await forger.publish(store.channel, message);
    }
    await pause(50);
    forger.disconnect();
    const record = await cache.get(id);
    expect([record?.version, record?.entries.get(visits)]).toEqual([1, 1]);
    // A real commit by another process is still seen.
    await withShared(store, id, () => set(visits, 2));
    await pause(50);
    expect((await cache.get(id))?.entries.get(visits)).toBe(2);
    await withShared(cache, id, () => update(visits, (v) => v + 1));
    expect((await store.get(id))?.entries.get(visits)).toBe(3);
    await cache.close();
  });

  it('many writers on two caches over two clients, random delays: zero lost updates, versions strictly increasing, no cache serves a version older than one it committed', async () => {
    const id = fresh();
    const clients = [new Redis(url), new Redis(url)];
    const caches = clients.map(
      (client) => new ContextCache(new RedisContextStore({ redis: client, prefix }), { ttl: 0 }),
    );
    await pause(50);
    const rounds = 25;
    const committed: number[] = [];
    const newest = [0, 0]; // highest version each cache returned from a commit
    const writers = counters.map(async (counter, w) => {
      const c = w % 2;
      for (let i = 0; i < rounds; i++) {
        await pause(Math.random() * 3);
        await withShared(
          caches[c]!,
          id,
          async () => {
            await pause(Math.random() * 2);
            update(counter, (v) => v + 1);
          },
          {
            retries: Number.POSITIVE_INFINITY,
            onCommit: (record) => {
              committed.push(record.version);
              newest[c] = Math.max(newest[c]!, record.version);
            },
          },
        );
        const seen = newest[c]!;
        const read = await caches[c]!.get(id);
        expect(read!.version).toBeGreaterThanOrEqual(seen);
      }
    });
    await Promise.all(writers);
    const final = await store.get(id);
    for (const counter of counters) expect(final?.entries.get(counter)).toBe(rounds);
    expect(final?.version).toBe(counters.length * rounds);
    expect(new Set(committed).size).toBe(committed.length);
    const history = await store.history(id);
    for (let i = 1; i < history.length; i++) {
      expect(history[i - 1]!.version).toBeGreaterThan(history[i]!.version);
    }
    await Promise.all(caches.map((cache) => cache.close()));
    for (const client of clients) client.disconnect();
  });
});

describe('options a hostile caller passes', () => {
  it('refuses onConflict and strategy values that cannot even be printed (null-prototype objects, symbols) with INVALID_ARGUMENT', async () => {
    const memory = new MemoryContextStore();
    for (const onConflict of [Object.create(null), Symbol('x'), {}, 42]) {
      const error = await failure(withShared(memory, 'o', () => {}, { onConflict }));
      expect(error.code).toBe('INVALID_ARGUMENT');
    }
    for (const strategy of [Object.create(null), Symbol('x')]) {
      let error: unknown;
      try {
        new ContextCache(memory, { strategy });
      } catch (e) {
        error = e;
      }
      expect(isDContextError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
    }
  });
});

describe('ContextCache racing a delete by another process', () => {
  it('a load that started before a delete was announced is not kept: the cache never serves the deleted record', async () => {
    const inner = new MemoryContextStore();
    await withShared(inner, 'gone', () => set(visits, 1));
    let slow = true;
    const slowStore: SharedContextStore = {
      get: async (id) => {
        const record = await inner.get(id);
        if (slow) await pause(30); // the read happened; its reply is late
        return record;
      },
      getMany: async (ids) => {
        const records = await inner.getMany(ids);
        if (slow) await pause(30);
        return records;
      },
      put: (write) => inner.put(write),
      putMany: (writes) => inner.putMany(writes),
      history: (id) => inner.history(id),
      rollback: (id, version) => inner.rollback(id, version),
      delete: (id) => inner.delete(id),
      subscribe: (handlers) => inner.subscribe(handlers),
    };
    for (const read of ['get', 'getMany'] as const) {
      if (read === 'getMany') {
        slow = false;
        await withShared(inner, 'gone', () => set(visits, 2));
        slow = true;
      }
      const cache = new ContextCache(slowStore, { ttl: 0 });
      await pause(5); // subscribed
      const loading = read === 'get' ? cache.get('gone') : cache.getMany(['gone']);
      await pause(5);
      await inner.delete('gone'); // another process deletes; the announcement arrives now
      await loading;
      slow = false;
      expect(await cache.get('gone'), read).toBeUndefined();
      await cache.close();
      slow = true;
    }
  });
});

describe('withShared with a resolver that misbehaves', () => {
  /** Two writers that both loaded version 1 and set `label` differently; the second conflicts. */
  async function collide(onConflict: (conflict: unknown) => unknown) {
    const memory = new MemoryContextStore();
    await withShared(memory, 'c', () => set(label, 'base'));
    let loaded = 0;
    const bothLoaded = async () => {
      loaded++;
      while (loaded < 2) await pause(1);
    };
    const [first, second] = await Promise.allSettled([
      withShared(memory, 'c', async () => {
        await bothLoaded();
        set(label, 'first');
      }),
      withShared(
        memory,
        'c',
        async () => {
          await bothLoaded();
          await pause(5);
          set(label, 'second');
        },
        { onConflict },
      ),
    ]);
    expect(first.status).toBe('fulfilled');
    const record = await memory.get('c');
    return { second, record };
  }

  it('a resolver that throws: its error is rethrown as is and nothing of this writer is committed', async () => {
    const boom = new Error('resolver refused');
    const { second, record } = await collide(() => {
      throw boom;
    });
    expect(second.status === 'rejected' && second.reason).toBe(boom);
    expect([record?.version, record?.entries.get(label)]).toEqual([2, 'first']);
  });

  it("a resolver returning a value the key's validate refuses: TYPE_MISMATCH, nothing committed", async () => {
    const { second, record } = await collide(() => 42);
    expect(second.status === 'rejected' && isDContextError(second.reason, 'TYPE_MISMATCH')).toBe(
      true,
    );
    expect([record?.version, record?.entries.get(label)]).toEqual([2, 'first']);
  });
});
