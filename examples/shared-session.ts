// A user session that two services change at the same time: "cart" adds an item and counts the
// visit, "profile" switches the theme and also adds an item. Both load version 1 before either
// commits, so the second commit finds version 2 and is merged: the changes to different keys are
// both kept, and the cart both changed goes to the onConflict policy ('merge-all': both items).
// Runs on the embedded memory store; set REDIS_URL to share the session through Redis.
// Run: node --import tsx examples/shared-session.ts
import assert from 'node:assert/strict';
import { get, initialize, RegistryBuilder, set, update } from 'dcontext';
import {
  MemoryContextStore,
  RedisContextStore,
  type SharedContextStore,
  withShared,
} from 'dcontext/shared';

const builder = new RegistryBuilder();
const cart = builder.register<string[]>('cart', { default: () => [] });
const visits = builder.register<number>('visits', { default: () => 0 });
const theme = builder.register<string>('theme', { default: () => 'light' });
initialize(builder);

async function openStore(): Promise<{ store: SharedContextStore; close: () => void }> {
  const url = process.env.REDIS_URL;
  if (url === undefined) return { store: new MemoryContextStore(), close: () => {} };
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  return {
    store: new RedisContextStore({ redis, prefix: 'example:' }),
    close: () => redis.disconnect(),
  };
}

const { store, close } = await openStore();
const id = `session-${process.pid}-${Date.now()}`;
console.log(`store: ${process.env.REDIS_URL ? 'Redis' : 'memory (set REDIS_URL for Redis)'}`);

await withShared(store, id, () => set(cart, ['book']), { updatedBy: 'login' });

// Both services load version 1, then wait for each other: a real race, made visible.
let loaded = 0;
const bothLoaded = async () => {
  loaded++;
  while (loaded < 2) await new Promise((resolve) => setTimeout(resolve, 1));
};

await Promise.all([
  withShared(
    store,
    id,
    async () => {
      await bothLoaded();
      update(cart, (items) => [...items, 'lamp']);
      update(visits, (n) => n + 1);
      console.log('cart service    changes', { cart: get(cart), visits: get(visits) });
    },
    { updatedBy: 'cart-service', onConflict: 'merge-all' },
  ),
  withShared(
    store,
    id,
    async () => {
      await bothLoaded();
      await new Promise((resolve) => setTimeout(resolve, 5)); // commits second
      set(theme, 'dark');
      update(cart, (items) => [...items, 'pen']);
      console.log('profile service changes', { cart: get(cart), theme: get(theme) });
    },
    {
      updatedBy: 'profile-service',
      onConflict: 'merge-all',
      onCommit: (record) => console.log(`profile service merged into version ${record.version}`),
    },
  ),
]);

const merged = await store.get(id);
const values = Object.fromEntries(merged!.entries.entries());
console.log(`version ${merged!.version} by ${merged!.updatedBy}:`, values);
assert.deepEqual(values, { cart: ['book', 'lamp', 'pen'], visits: 1, theme: 'dark' });

for (const record of await store.history(id)) {
  console.log(
    `  history v${record.version} by ${record.updatedBy}:`,
    Object.fromEntries(record.entries.entries()),
  );
}
const rolledBack = await store.rollback(id, 1);
console.log(
  `rolled back: version ${rolledBack.version} holds`,
  Object.fromEntries(rolledBack.entries.entries()),
);
assert.deepEqual(rolledBack.entries.get(cart), ['book']);

await store.delete(id);
close();
