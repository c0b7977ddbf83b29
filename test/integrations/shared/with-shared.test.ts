import { beforeAll, describe, expect, it } from 'vitest';
import {
  get,
  initialize,
  isDContextError,
  RegistryBuilder,
  Snapshot,
  scope,
  scopeChain,
  set,
  update,
} from '../../../src/index.js';
import {
  MemoryContextStore,
  SharedConflictError,
  type SharedContextStore,
  withShared,
} from '../../../src/integrations/shared/index.js';
import { sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const cart = builder.register<string[]>('cart', { default: () => [] });
const visits = builder.register<number>('visits', { default: () => 0 });
const theme = builder.register<string>('theme', { validate: (v) => typeof v === 'string' });
const requestId = builder.register<string>('request_id');
const secret = builder.register<string>('secret', { local: true });
beforeAll(() => initialize(builder));

let n = 0;
const fresh = () => `s-${process.pid}-${++n}`;

/** Runs `a` and `b` as two writers that both load before either commits. */
async function race(
  store: SharedContextStore,
  id: string,
  a: () => void,
  b: () => void,
  options = {},
) {
  let loaded = 0;
  const gate = () =>
    new Promise<void>((resolve) => {
      loaded++;
      const wait = () => (loaded >= 2 ? resolve() : setTimeout(wait, 1));
      wait();
    });
  return Promise.allSettled([
    withShared(
      store,
      id,
      async () => {
        await gate();
        a();
      },
      options,
    ),
    withShared(
      store,
      id,
      async () => {
        await gate();
        await sleep(5);
        b();
      },
      options,
    ),
  ]);
}

describe('withShared on the memory store', () => {
  it('runs fn in a scope named shared:<id> holding the stored values, over the caller context', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => set(cart, ['book']));
    await scope('request', async () => {
      set(requestId, 'r1');
      await withShared(store, id, () => {
        expect(scopeChain()).toEqual(['request', `shared:${id}`]);
        expect(get(cart)).toEqual(['book']);
        expect(get(requestId)).toBe('r1');
      });
    });
  });

  it('commits only the keys fn changed, as the next version, and returns what fn returned', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    const result = await scope(async () => {
      set(requestId, 'r1'); // the caller's, not the shared context's
      return withShared(
        store,
        id,
        () => {
          update(visits, (v) => v + 1);
          set(theme, 'dark');
          return 'done';
        },
        { updatedBy: 'svc-a' },
      );
    });
    expect(result).toBe('done');
    const record = await store.get(id);
    expect(record?.version).toBe(1);
    expect(record?.updatedBy).toBe('svc-a');
    expect([...record!.entries.entries()]).toEqual([
      ['visits', 1],
      ['theme', 'dark'],
    ]);
    await withShared(store, id, () => set(theme, undefined));
    const next = await store.get(id);
    expect(next?.version).toBe(2);
    expect(next?.entries.has(theme)).toBe(false);
    expect(next?.entries.get(visits)).toBe(1);
  });

  it('commits nothing when fn throws or changes nothing', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await expect(
      withShared(store, id, async () => {
        set(cart, ['x']);
        await sleep(1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.get(id)).toBeUndefined();
    await withShared(store, id, () => set(visits, 3));
    await withShared(store, id, () => set(visits, 3)); // same value: not a change
    expect((await store.get(id))?.version).toBe(1);
  });

  it('never stores a local-only key, and rejects a value failing validate with nothing committed', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => {
      set(secret, 'pw');
      set(visits, 1);
    });
    expect((await store.get(id))?.entries.has(secret)).toBe(false);
    const error = await withShared(store, id, () => set(theme, 42 as unknown as string)).catch(
      (e) => e,
    );
    expect(isDContextError(error, 'TYPE_MISMATCH')).toBe(true);
    expect((await store.get(id))?.version).toBe(1);
  });

  it('merges concurrent changes of different keys from both writers', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    const [a, b] = await race(
      store,
      id,
      () => set(cart, ['a']),
      () => set(theme, 'dark'),
    );
    expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    const record = await store.get(id);
    expect(record?.version).toBe(3);
    expect(record?.entries.get(cart)).toEqual(['a']);
    expect(record?.entries.get(theme)).toBe('dark');
    expect(record?.entries.get(visits)).toBe(1);
  });

  it("'fail' (default): a key changed differently by both is a CONFLICT listing its values", async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    const [a, b] = await race(
      store,
      id,
      () => set(visits, 2),
      () => set(visits, 5),
    );
    expect(a.status).toBe('fulfilled');
    const error = (b as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(SharedConflictError);
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain("'visits' (base 1, local 5, remote 2)");
    expect(error.conflicts[0]).toMatchObject({
      key: 'visits',
      base: 1,
      local: 5,
      remote: 2,
      baseVersion: 1,
      remoteVersion: 2,
    });
    expect((await store.get(id))?.entries.get(visits)).toBe(2);
    expect((await store.get(id))?.version).toBe(2);
  });

  it('changed here / deleted there is a conflict, never a silent delete', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => set(cart, ['a']));
    const [, b] = await race(
      store,
      id,
      () => set(cart, undefined),
      () => set(cart, ['a', 'b']),
    );
    expect(isDContextError((b as PromiseRejectedResult).reason, 'CONFLICT')).toBe(true);
    const [, d] = await race(
      store,
      id,
      () => set(cart, ['a', 'c']),
      () => set(cart, undefined),
      {
        onConflict: 'merge-all',
      },
    );
    expect(d.status).toBe('fulfilled');
    expect((await store.get(id))?.entries.get(cart)).toEqual(['a', 'c']);
  });

  it.each([
    ['last-write-wins', 5],
    ['higher-version-wins', 2],
    ['merge-all', 6],
  ] as const)("'%s' settles a conflicting counter to %d", async (policy, expected) => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => set(visits, 1));
    const results = await race(
      store,
      id,
      () => set(visits, 2),
      () => set(visits, 5),
      { onConflict: policy },
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await store.get(id))?.entries.get(visits)).toBe(expected);
  });

  it('a resolver function decides the value', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await withShared(store, id, () => set(theme, 'light'));
    const seen: unknown[] = [];
    await race(
      store,
      id,
      () => set(theme, 'dark'),
      () => set(theme, 'blue'),
      {
        onConflict: (c: { key: string; local: unknown; remote: unknown }) => {
          seen.push([c.key, c.local, c.remote]);
          return `${c.remote}+${c.local}`;
        },
      },
    );
    expect(seen).toEqual([['theme', 'blue', 'dark']]);
    expect((await store.get(id))?.entries.get(theme)).toBe('dark+blue');
  });

  it('many interleaved writers lose no update (merge-all over one list, retries)', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await sleep(Math.random() * 5);
        await withShared(
          store,
          id,
          async () => {
            await sleep(Math.random() * 3);
            update(cart, (c) => [...c, `w${i}`]);
          },
          { onConflict: 'merge-all', retries: 1000 },
        );
      }),
    );
    const record = await store.get(id);
    expect(record?.version).toBe(30);
    expect([...record!.entries.get(cart)].sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `w${i}`).sort(),
    );
  });

  it('gives up with CONFLICT after `retries` lost compare-and-sets, committing nothing', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    // A store whose every commit loses to a newer version.
    const losing = {
      get: (x: string) => store.get(x),
      put: async () => ({ ok: false, current: await store.get(id) }),
    } as unknown as SharedContextStore;
    await withShared(store, id, () => set(visits, 1));
    const error = await withShared(losing, id, () => set(cart, ['x']), { retries: 2 }).catch(
      (e) => e,
    );
    expect(isDContextError(error, 'CONFLICT')).toBe(true);
    expect(error.message).toContain('3 times');
  });

  it('checks its arguments with INVALID_ARGUMENT', async () => {
    const store = new MemoryContextStore();
    for (const call of [
      () => withShared(store, '', () => {}),
      () => withShared(store, 'x', 'no' as never),
      () => withShared(store, 'x', () => {}, { onConflict: 'newest' as never }),
      () => withShared(store, 'x', () => {}, { retries: -1 }),
      () => store.put({ id: 'x', entries: {} as Snapshot, expectedVersion: 0 }),
      () => store.put({ id: 'x', entries: Snapshot.empty(), expectedVersion: -1 }),
    ]) {
      expect(isDContextError(await call().catch((e) => e), 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(() => new MemoryContextStore({ historySize: 0 })).toThrow(/historySize/);
  });
});

describe('history and rollback', () => {
  it('keeps the last N versions, newest first, and rollback commits an old one as new', async () => {
    const store = new MemoryContextStore({ historySize: 3 });
    const id = fresh();
    for (let i = 1; i <= 5; i++) await withShared(store, id, () => set(visits, i * 10));
    const history = await store.history(id);
    expect(history.map((r) => [r.version, r.entries.get(visits)])).toEqual([
      [5, 50],
      [4, 40],
      [3, 30],
    ]);
    const rolled = await store.rollback(id, 3, { updatedBy: 'ops' });
    expect(rolled.version).toBe(6);
    expect(rolled.updatedBy).toBe('ops');
    expect(rolled.entries.get(visits)).toBe(30);
    expect((await store.get(id))?.version).toBe(6);
    const error = await store.rollback(id, 1).catch((e) => e);
    expect(isDContextError(error, 'INVALID_ARGUMENT')).toBe(true);
    await expect(new MemoryContextStore().history('none')).resolves.toEqual([]);
  });

  it('default history is 10 versions; delete removes the context and its history', async () => {
    const store = new MemoryContextStore();
    const id = fresh();
    for (let i = 1; i <= 12; i++) await withShared(store, id, () => set(visits, i));
    expect((await store.history(id)).map((r) => r.version)).toEqual([
      12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
    ]);
    await store.delete(id);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.history(id)).toEqual([]);
  });

  it('putMany and getMany work in order, each write its own compare-and-set', async () => {
    const store = new MemoryContextStore();
    const [a, b] = [fresh(), fresh()];
    const entries = Snapshot.empty().with(visits, 1);
    const results = await store.putMany([
      { id: a, entries, expectedVersion: 0 },
      { id: b, entries, expectedVersion: 0 },
      { id: a, entries: entries.with(visits, 2), expectedVersion: 1 },
      { id: b, entries, expectedVersion: 0 },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
    const [ra, rb, none] = await store.getMany([a, b, 'missing']);
    expect([ra?.version, ra?.entries.get(visits), rb?.version, none]).toEqual([2, 2, 1, undefined]);
  });
});
