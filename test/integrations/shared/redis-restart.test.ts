import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialize, isDContextError, RegistryBuilder, update } from '../../../src/index.js';
import {
  ContextCache,
  RedisContextStore,
  withShared,
} from '../../../src/integrations/shared/index.js';
import { COMMIT_SHA } from '../../../src/integrations/shared/redis-script.js';
import { sleep } from '../../support/codes.js';

const WRITERS = 4;
const builder = new RegistryBuilder();
for (let w = 0; w < WRITERS; w++) builder.register<number[]>(`acked_${w}`, { default: () => [] });
beforeAll(() => initialize(builder));

/** A port nothing listens on now. */
function sparePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'dcontext-redis-'));
let port = 0;
let server: ChildProcess | undefined;

/** Starts redis-server on `port` with an append-only file in `dir`; resolves when it accepts commands. */
async function startRedis(): Promise<void> {
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => {}); // refused until the server listens
  for (let i = 0; i < 200; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      await sleep(25);
    }
  }
  throw new Error('redis-server did not start');
}

function killRedis(): Promise<void> {
  const running = server;
  if (running === undefined || running.exitCode !== null || running.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    running.once('exit', () => resolve());
    running.kill('SIGKILL');
  });
}

beforeAll(async () => {
  port = await sparePort();
  await startRedis();
});
afterAll(async () => {
  await killRedis();
  rmSync(dir, { recursive: true, force: true });
});

describe('a Redis killed and restarted mid-run', () => {
  it('fails operations with STORE_UNAVAILABLE while down, works after, and loses no acknowledged write', async () => {
    // The caller chooses how long a command may wait for Redis: here, not at all.
    const redis = new Redis({
      port,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    redis.on('error', () => {}); // reconnection attempts while the server is down
    await new Promise((resolve) => redis.once('ready', resolve));
    const store = new RedisContextStore({ redis, prefix: 'restart:' });
    // A cache on the same Redis: its subscription drops with the server and must come back.
    const cache = new ContextCache(store, { ttl: 60_000 });
    const cacheErrors: unknown[] = [];
    const acked: number[][] = Array.from({ length: WRITERS }, () => []);
    const errors: unknown[] = [];
    let phase: 'up' | 'down' | 'restarted' = 'up';
    const ackedAfterRestart = { count: 0 };
    let stop = false;

    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        await sleep(Math.random() * 4);
        try {
          await withShared(
            store,
            'session',
            () => update(`acked_${w}`, (s) => [...(s as number[]), i]),
            {
              retries: 1000,
            },
          );
          acked[w]!.push(i);
          if (phase === 'restarted') ackedAfterRestart.count++;
        } catch (error) {
          if (phase !== 'up') errors.push(error);
          else throw error;
          await sleep(10);
        }
      }
    };
    const running = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    await sleep(400);
    const before = await cache.get('session'); // held in the cache's tier now
    phase = 'down';
    await killRedis();
    // Once the lost connection is noticed, the tier is not trusted (announcements may be
    // missed): reads go to Redis, and fail.
    for (let i = 0; i < 100 && cacheErrors.length < 3; i++) {
      const read = await cache.get('session').catch((e: unknown) => e);
      if (read instanceof Error) cacheErrors.push(read);
      else await sleep(10);
    }
    await sleep(300);
    const duringOutage = errors.length;
    await startRedis();
    phase = 'restarted';
    // The restarted server has no scripts: the first commit falls back from EVALSHA to EVAL.
    for (let i = 0; i < 400 && ackedAfterRestart.count < 20; i++) await sleep(25);
    stop = true;
    await running;

    expect(duringOutage).toBeGreaterThan(0);
    for (const error of errors)
      expect(isDContextError(error, 'STORE_UNAVAILABLE'), String(error)).toBe(true);
    expect(ackedAfterRestart.count).toBeGreaterThanOrEqual(20);
    expect(await redis.script('EXISTS', COMMIT_SHA)).toEqual([1]);
    expect(before?.version).toBeGreaterThan(0);
    for (const error of cacheErrors)
      expect(isDContextError(error, 'STORE_UNAVAILABLE'), String(error)).toBe(true);
    // Subscribed again: the cache serves the version committed after the restart.
    const latest = await store.get('session');
    for (let i = 0; i < 100 && (await cache.get('session'))?.version !== latest?.version; i++)
      await sleep(20);
    expect((await cache.get('session'))?.version).toBe(latest?.version);
    // …from its tier again, once the subscription is back.
    for (let i = 0; i < 100 && cache.peek('session') === undefined; i++) {
      await sleep(20);
      await cache.get('session');
    }
    expect(cache.peek('session')?.version).toBe(latest?.version);
    await cache.close();

    const record = await store.get('session');
    for (let w = 0; w < WRITERS; w++) {
      const stored = new Set(record?.entries.get(`acked_${w}`) as number[]);
      const lost = acked[w]!.filter((i) => !stored.has(i));
      expect(lost, `writer ${w}`).toEqual([]);
      expect(acked[w]!.length).toBeGreaterThan(0);
    }
    redis.disconnect();
  }, 60_000);
});
