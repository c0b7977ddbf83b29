import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialize, RegistryBuilder, set } from '../../../src/index.js';
import {
  ContextCache,
  RedisContextStore,
  withShared,
} from '../../../src/integrations/shared/index.js';
import { sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const visits = builder.register<number>('visits', { default: () => 0 });
beforeAll(() => initialize(builder));

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:cache:${process.pid}:${Date.now()}:`;
const redis = new Redis(url);
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const script = fileURLToPath(new URL('./support/cache-reader.ts', import.meta.url));
/** The documented stale window after another process's commit, with announcements flowing. */
const STALE_WINDOW_MS = 1000;

describe('ContextCache across processes (Redis pub/sub)', () => {
  it('a commit in one process is seen by the cache of another within the stale window', async () => {
    const cache = new ContextCache(new RedisContextStore({ redis, prefix }));
    const id = 'session-2p';
    const LAST = 8;
    await withShared(cache, id, () => set(visits, 1));

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, url, prefix, id, String(LAST)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => String((await lines.next()).value).split(' ');
    expect(await next()).toEqual(['ready', '1']);

    const lags: number[] = [];
    let reads = 0;
    for (let v = 2; v <= LAST; v++) {
      await sleep(20 + Math.random() * 30); // the reader keeps serving version v-1 from its tier meanwhile
      const committed = Date.now();
      await withShared(cache, id, () => set(visits, v));
      const [word, version, at, readCount] = await next();
      expect([word, version]).toEqual(['seen', String(v)]);
      lags.push(Number(at) - committed);
      reads = Number(readCount);
    }
    await new Promise((resolve) => child.on('exit', resolve));
    await cache.close();

    expect(Math.max(...lags)).toBeLessThan(STALE_WINDOW_MS);
    // The reader polled continuously, yet read the store about once per commit: a real tier.
    expect(reads).toBeLessThanOrEqual(2 * LAST + 2);
  }, 60_000);
});
