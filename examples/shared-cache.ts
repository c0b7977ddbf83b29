// ContextCache in front of a shared-context store: reads served from this process, a loader for
// contexts the store does not hold yet (read-through), commits announced to the other caches
// (here a second cache stands for another process), and write-behind with close().
// Runs on the embedded memory store; set REDIS_URL to use Redis (and its pub/sub).
// Run: node --import tsx examples/shared-cache.ts
import assert from 'node:assert/strict';
import { initialize, RegistryBuilder, Snapshot, set } from 'dcontext';
import {
  ContextCache,
  MemoryContextStore,
  RedisContextStore,
  type SharedContextStore,
  withShared,
} from 'dcontext/shared';

const builder = new RegistryBuilder();
const plan = builder.register<string>('plan');
const flags = builder.register<Record<string, boolean>>('flags', { default: () => ({}) });
const step = builder.register<number>('step', { default: () => 0 });
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
const run = `${process.pid}-${Date.now()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Read-through: a user's first request loads their flags from the database (here: a function).
let loads = 0;
const cache = new ContextCache(store, {
  strategy: 'read-through',
  ttl: 10_000,
  maxEntries: 10_000,
  loader: async (id) => {
    if (!id.startsWith('user-')) return undefined; // not a user: nothing to load
    loads++;
    return {
      entries: Snapshot.empty().with(plan, 'pro').with(flags, { newCheckout: true }),
      updatedBy: 'db',
    };
  },
});
const other = new ContextCache(store); // another process's cache
await sleep(20); // both caches confirm their subscription

const user = `user-${run}`;
const reads = await Promise.all(Array.from({ length: 100 }, () => cache.get(user)));
console.log(
  `100 concurrent reads of a new user: ${loads} load, version ${reads[0]?.version}, plan ${reads[0]?.entries.get(plan)}`,
);
assert.equal(loads, 1);
assert.equal(cache.peek(user)?.version, 1); // held in this process now

// The other cache reads it, then this one commits: the other one drops its copy on the announcement.
assert.equal((await other.get(user))?.version, 1);
await withShared(cache, user, () => set(flags, { newCheckout: true, darkMode: true }));
await sleep(20);
console.log(
  `after a commit elsewhere, the other cache holds: ${other.peek(user)?.version ?? 'nothing (evicted)'}`,
);
const fresh = await other.get(user);
console.log(`and reads version ${fresh?.version}:`, fresh?.entries.get(flags));
assert.equal(fresh?.version, 2);

// Write-behind: commits resolve at once; the queue reaches the store in batches; close() flushes.
const behind = new ContextCache(store, {
  strategy: 'write-behind',
  maxQueue: 500,
  onError: (e) => console.error(e),
});
const workflow = `workflow-${run}`;
for (let i = 0; i < 50; i++) {
  await withShared(behind, workflow, () => set(step, i + 1));
}
console.log(`write-behind: 50 steps committed, ${behind.queued} still queued for the store`);
await behind.close();
const stored = await store.get(workflow);
console.log(
  `after close(): the store holds version ${stored?.version}, step ${stored?.entries.get(step)}`,
);
assert.equal(stored?.entries.get(step), 50);

await cache.close();
await other.close();
await store.delete(user);
await store.delete(workflow);
close();
