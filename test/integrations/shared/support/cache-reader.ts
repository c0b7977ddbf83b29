// The other process of the two-process cache test: reads one shared context through a
// ContextCache in a tight loop and prints each new version it sees, when it saw it, and how many
// store reads it took. Run with `node --import tsx`.
import { Redis } from 'ioredis';
import { initialize, RegistryBuilder } from '../../../../src/index.js';
import { ContextCache, RedisContextStore } from '../../../../src/integrations/shared/index.js';

const [url, prefix, id, last] = process.argv.slice(2) as string[] as [
  string,
  string,
  string,
  string,
];
const builder = new RegistryBuilder();
builder.register<number>('visits', { default: () => 0 });
initialize(builder);

const redis = new Redis(url);
const store = new RedisContextStore({ redis, prefix });
let reads = 0;
const counting = Object.assign(Object.create(null), {
  get: (x: string) => {
    reads++;
    return store.get(x);
  },
  getMany: (x: string[]) => store.getMany(x),
  put: store.put.bind(store),
  putMany: store.putMany.bind(store),
  history: store.history.bind(store),
  rollback: store.rollback.bind(store),
  delete: store.delete.bind(store),
  subscribe: store.subscribe.bind(store),
});
const cache = new ContextCache(counting, { ttl: 60_000 });

// Ready once reads are served by the tier (the subscription is confirmed).
let version = 0;
for (;;) {
  const before = reads;
  version = (await cache.get(id))?.version ?? 0;
  if (reads === before) break;
  await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write(`ready ${version}\n`);
while (version < Number(last)) {
  const record = await cache.get(id);
  if (record !== undefined && record.version !== version) {
    version = record.version;
    process.stdout.write(`seen ${version} ${Date.now()} ${reads}\n`);
  }
  await new Promise((r) => setImmediate(r));
}
await cache.close();
redis.disconnect();
