import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DContextError,
  initialize,
  isDContextError,
  RegistryBuilder,
  Snapshot,
  set,
} from '../../../src/index.js';
import {
  type CommitHandlers,
  ContextCache,
  MemoryContextStore,
  type SharedContextStore,
  type SharedRecord,
  type SharedWrite,
  withShared,
} from '../../../src/integrations/shared/index.js';
import { sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const visits = builder.register<number>('visits', { default: () => 0 });
const theme = builder.register<string>('theme');
beforeAll(() => initialize(builder));

/** A memory store that counts calls, and whose subscription the test can drive. */
class CountingStore extends MemoryContextStore {
  gets = 0;
  getManys = 0;
  commits = 0;
  handlers: CommitHandlers[] = [];
  override get(id: string) {
    this.gets++;
    return super.get(id);
  }
  override getMany(ids: readonly string[]) {
    this.getManys++;
    return super.getMany(ids);
  }
  override putMany(writes: readonly SharedWrite[]) {
    this.commits++;
    return super.putMany(writes);
  }
  override subscribe(handlers: CommitHandlers) {
    this.handlers.push(handlers);
    return super.subscribe(handlers);
  }
}

/** `store` with some methods replaced (the others delegate to it). */
function wrap(
  store: MemoryContextStore,
  overrides: Partial<SharedContextStore>,
): SharedContextStore {
  return {
    get: (id) => store.get(id),
    getMany: (ids) => store.getMany(ids),
    put: (w) => store.put(w),
    putMany: (w) => store.putMany(w),
    history: (id) => store.history(id),
    rollback: (id, v, o) => store.rollback(id, v, o),
    delete: (id) => store.delete(id),
    subscribe: (h) => store.subscribe(h),
    ...overrides,
  };
}

const entries = (n: number) => Snapshot.empty().with(visits, n);
const caches: ContextCache[] = [];
function cacheOf(
  store: SharedContextStore,
  options: ConstructorParameters<typeof ContextCache>[1] = {},
) {
  const cache = new ContextCache(store, options);
  caches.push(cache);
  return cache;
}
afterEach(async () => {
  await Promise.allSettled(caches.splice(0).map((c) => c.close()));
});
/** Lets the subscription confirm (the tier is bypassed until then). */
const settle = () => sleep(5);

describe('ContextCache tier', () => {
  it('serves repeated reads from the process, not the store', async () => {
    const store = new CountingStore();
    const cache = cacheOf(store);
    await settle();
    await store.put({ id: 'a', entries: entries(1), expectedVersion: 0 });
    for (let i = 0; i < 10; i++) expect((await cache.get('a'))?.entries.get(visits)).toBe(1);
    expect(store.gets).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries (least recently used go first) and drops entries after ttl', async () => {
    const store = new CountingStore();
    const cache = cacheOf(store, { maxEntries: 2, ttl: 500 });
    await settle();
    for (const id of ['a', 'b', 'c'])
      await store.put({ id, entries: entries(1), expectedVersion: 0 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBeDefined();
    await sleep(600);
    expect(cache.peek('a')).toBeUndefined();
    const before = store.gets;
    await cache.get('a');
    expect(store.gets).toBe(before + 1);
  });

  it('single-flight: 50 concurrent misses for one id make one store read', async () => {
    const store = new CountingStore();
    const cache = cacheOf(store);
    await settle();
    await store.put({ id: 'a', entries: entries(7), expectedVersion: 0 });
    const records = await Promise.all(Array.from({ length: 50 }, () => cache.get('a')));
    expect(store.gets).toBe(1);
    expect(new Set(records).size).toBe(1);
    const many = await Promise.all([
      cache.getMany(['x', 'y', 'x']),
      cache.getMany(['y']),
      cache.get('x'),
    ]);
    expect(many[0]).toEqual([undefined, undefined, undefined]);
    expect(store.getManys).toBe(1);
  });

  it('read-through: a miss in the store calls the loader once and commits what it returns', async () => {
    const store = new CountingStore();
    let loads = 0;
    const cache = cacheOf(store, {
      strategy: 'read-through',
      loader: async (id) => {
        loads++;
        await sleep(5);
        return id === 'none' ? undefined : { entries: entries(42), updatedBy: 'db' };
      },
    });
    await settle();
    const records = await Promise.all(Array.from({ length: 20 }, () => cache.get('s1')));
    expect(loads).toBe(1);
    expect(records.every((r) => r?.version === 1 && r.entries.get(visits) === 42)).toBe(true);
    expect((await store.get('s1'))?.updatedBy).toBe('db');
    expect(await cache.get('none')).toBeUndefined();
    expect((await cache.getMany(['s2', 'none']))[0]?.entries.get(visits)).toBe(42);
  });

  it('write-through: the commit is in the store when it resolves, and in the tier', async () => {
    const store = new CountingStore();
    const cache = cacheOf(store);
    await settle();
    await withShared(cache, 'a', () => set(theme, 'dark'));
    expect((await store.get('a'))?.entries.get(theme)).toBe('dark');
    const gets = store.gets;
    expect(cache.peek('a')?.version).toBe(1);
    await withShared(cache, 'a', () => set(theme, 'light')); // its read is served by the tier
    expect(store.gets).toBe(gets);
    expect((await store.get('a'))?.version).toBe(2);
  });

  it('a commit through another cache of the same store evicts the older copy here', async () => {
    const store = new MemoryContextStore();
    const [one, two] = [cacheOf(store), cacheOf(store)];
    await settle();
    await withShared(one, 'a', () => set(visits, 1));
    expect((await two.get('a'))?.version).toBe(1);
    await withShared(one, 'a', () => set(visits, 2));
    await settle();
    expect(two.peek('a')).toBeUndefined();
    expect((await two.get('a'))?.entries.get(visits)).toBe(2);
    // A stale copy offered afterwards is refused: this process has seen version 2.
    const stale = (await store.history('a'))[1] as SharedRecord;
    two.prime(stale);
    expect(two.peek('a')?.version).toBe(2);
  });

  it('while announcements may be missed (a gap) the tier is bypassed; after resuming it serves again', async () => {
    const store = new CountingStore();
    const cache = cacheOf(store);
    await settle();
    await store.put({ id: 'a', entries: entries(1), expectedVersion: 0 });
    await cache.get('a');
    store.handlers[0]!.onGap!();
    expect(cache.peek('a')).toBeUndefined();
    const before = store.gets;
    await cache.get('a');
    await cache.get('a');
    expect(store.gets).toBe(before + 2);
    store.handlers[0]!.onResume!();
    await cache.get('a');
    await cache.get('a');
    expect(store.gets).toBe(before + 3);
  });

  it('cache-aside helpers: peek, prime and invalidate', async () => {
    const store = new MemoryContextStore();
    const cache = cacheOf(store);
    await settle();
    const result = await store.put({ id: 'a', entries: entries(3), expectedVersion: 0 });
    expect(cache.peek('a')).toBeUndefined();
    if (result.ok) cache.prime(result.record);
    expect(cache.peek('a')?.entries.get(visits)).toBe(3);
    cache.invalidate('a');
    expect(cache.peek('a')).toBeUndefined();
    if (result.ok) cache.prime(result.record);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });

  it('checks options, and refuses calls after close() with CLOSED', async () => {
    const store = new MemoryContextStore();
    expect(() => new ContextCache(store, { strategy: 'nope' as never })).toThrow(/strategy/);
    expect(() => new ContextCache(store, { strategy: 'read-through' })).toThrow(/loader/);
    expect(() => new ContextCache(store, { maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new ContextCache({} as never)).toThrow(/store/);
    const cache = new ContextCache(store);
    await cache.close();
    expect(isDContextError(await cache.get('a').catch((e) => e), 'CLOSED')).toBe(true);
  });
});

describe('write-behind', () => {
  it('10,000 writes then close(): every one is stored, in order, with the queue never over maxQueue', async () => {
    const store = new CountingStore();
    const cache = cacheOf(store, {
      strategy: 'write-behind',
      maxQueue: 200,
      maxBatch: 50,
      flushInterval: 5,
    });
    await settle();
    let most = 0;
    const ids = Array.from({ length: 100 }, (_, i) => `wb-${i}`);
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        ids.map(async (id) => {
          const result = await cache.put({
            id,
            entries: entries(round),
            expectedVersion: round,
          });
          expect(result.ok).toBe(true);
          most = Math.max(most, cache.queued);
        }),
      );
    }
    // Reads see the writes at once, before the store has them.
    expect((await cache.get('wb-0'))?.version).toBe(100);
    await cache.close();
    expect(most).toBeLessThanOrEqual(200);
    expect(store.commits).toBeGreaterThanOrEqual(10_000 / 50);
    for (const record of await store.getMany(ids)) {
      expect([record?.version, record?.entries.get(visits)]).toEqual([100, 99]);
    }
  });

  it("onFull: 'fail' rejects a write with QUEUE_FULL instead of dropping it", async () => {
    const store = new MemoryContextStore();
    const slow = wrap(store, {
      putMany: async (w) => {
        await sleep(50);
        return store.putMany(w);
      },
    });
    const cache = cacheOf(slow, {
      strategy: 'write-behind',
      maxQueue: 5,
      onFull: 'fail',
      flushInterval: 1000,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        cache.put({ id: `f${i}`, entries: entries(1), expectedVersion: 0 }),
      ),
    );
    const full = results.filter((r) => r.status === 'rejected');
    expect(full.length).toBeGreaterThan(0);
    for (const r of full)
      expect(isDContextError((r as PromiseRejectedResult).reason, 'QUEUE_FULL')).toBe(true);
    await cache.close();
    const stored = await store.getMany(Array.from({ length: 8 }, (_, i) => `f${i}`));
    expect(stored.filter(Boolean).length).toBe(8 - full.length);
  });

  it('a store failing half the time: every failure is reported, nothing is silently dropped', async () => {
    const store = new MemoryContextStore();
    let failures = 0;
    const flaky = wrap(store, {
      putMany: async (w) => {
        await sleep(Math.random() * 2);
        if (Math.random() < 0.5) {
          failures++;
          throw new DContextError('STORE_UNAVAILABLE', 'injected failure');
        }
        return store.putMany(w);
      },
    });
    const reported: { error: DContextError; writes: number; willRetry: boolean }[] = [];
    const cache = cacheOf(flaky, {
      strategy: 'write-behind',
      maxBatch: 20,
      flushInterval: 2,
      flushRetries: 2,
      retryDelay: 1,
      onError: (error, failure) =>
        reported.push({ error, writes: failure!.writes.length, willRetry: failure!.willRetry }),
    });
    const ids = Array.from({ length: 1000 }, (_, i) => `flaky-${i}`);
    for (const id of ids) await cache.put({ id, entries: entries(1), expectedVersion: 0 });
    const closed = await cache.close().catch((e) => e);

    expect(reported.length).toBe(failures);
    expect(reported.every((r) => r.error.code === 'STORE_UNAVAILABLE')).toBe(true);
    const givenUp = reported.filter((r) => !r.willRetry).reduce((sum, r) => sum + r.writes, 0);
    const stored = (await store.getMany(ids)).filter(Boolean).length;
    expect(stored + givenUp).toBe(ids.length);
    if (givenUp > 0) {
      expect(isDContextError(closed, 'STORE_UNAVAILABLE')).toBe(true);
      expect(closed.message).toContain(`${givenUp} write-behind write(s) could not be stored`);
    } else expect(closed).toBeUndefined();
    expect(failures).toBeGreaterThan(0);
  });

  it('a write-behind write that lost to another writer is reported as CONFLICT and the tier re-reads', async () => {
    const store = new MemoryContextStore();
    const errors: DContextError[] = [];
    const cache = cacheOf(store, {
      strategy: 'write-behind',
      flushInterval: 20,
      onError: (e) => errors.push(e),
    });
    await settle();
    expect((await cache.put({ id: 'c', entries: entries(1), expectedVersion: 0 })).ok).toBe(true);
    await store.put({ id: 'c', entries: entries(9), expectedVersion: 0 }); // another process got there first
    const closed = await cache.close().catch((e) => e);
    expect(errors.map((e) => e.code)).toEqual(['CONFLICT']);
    expect(isDContextError(closed, 'CONFLICT')).toBe(true);
    expect((await store.get('c'))?.entries.get(visits)).toBe(9);
  });
});
