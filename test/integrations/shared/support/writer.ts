// One process of the many-writers test: `writers` concurrent writers, each committing `updates`
// changes to one shared context through withShared (its own counter and set), then printing the
// versions each writer committed. Run with `node --import tsx`.
import { Redis } from 'ioredis';
import { initialize, RegistryBuilder, update } from '../../../../src/index.js';
import { RedisContextStore, withShared } from '../../../../src/integrations/shared/index.js';

const [url, prefix, id, first, writers, updates, total] = process.argv.slice(2) as string[] as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];
const builder = new RegistryBuilder();
for (let w = 0; w < Number(total); w++) {
  builder.register<number>(`counter_${w}`, { default: () => 0 });
  builder.register<number[]>(`set_${w}`, { default: () => [] });
}
initialize(builder);

const redis = new Redis(url);
const store = new RedisContextStore({ redis, prefix });

async function writer(w: number): Promise<number[]> {
  const versions: number[] = [];
  for (let i = 0; i < Number(updates); i++) {
    await withShared(
      store,
      id,
      () => {
        update(`counter_${w}`, (n) => (n as number) + 1);
        update(`set_${w}`, (s) => [...(s as number[]), i]);
      },
      {
        retries: Number.POSITIVE_INFINITY,
        updatedBy: `w${w}`,
        onCommit: (r) => versions.push(r.version),
      },
    );
  }
  return versions;
}

const ids = Array.from({ length: Number(writers) }, (_, k) => Number(first) + k);
const results = await Promise.all(ids.map(writer));
process.stdout.write(JSON.stringify(Object.fromEntries(ids.map((w, k) => [w, results[k]]))));
redis.disconnect();
