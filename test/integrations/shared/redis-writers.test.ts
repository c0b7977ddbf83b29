import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialize, RegistryBuilder } from '../../../src/index.js';
import { RedisContextStore } from '../../../src/integrations/shared/index.js';

const PROCESSES = 4;
const WRITERS_PER_PROCESS = 5;
const UPDATES = 500;
const WRITERS = PROCESSES * WRITERS_PER_PROCESS;

const builder = new RegistryBuilder();
for (let w = 0; w < WRITERS; w++) {
  builder.register<number>(`counter_${w}`, { default: () => 0 });
  builder.register<number[]>(`set_${w}`, { default: () => [] });
}
beforeAll(() => initialize(builder));

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:writers:${process.pid}:${Date.now()}:`;
const redis = new Redis(url);
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const script = fileURLToPath(new URL('./support/writer.ts', import.meta.url));

/** One writer process; resolves to the versions each of its writers committed, by writer. */
function writerProcess(first: number): Promise<Record<string, number[]>> {
  return new Promise((resolve, reject) => {
    const args = [url, prefix, 'order-1', first, WRITERS_PER_PROCESS, UPDATES, WRITERS].map(String);
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer exited ${code}: ${err}`)),
    );
  });
}

describe('many writers in many processes', () => {
  it(`${WRITERS} writers in ${PROCESSES} processes × ${UPDATES} updates each: none lost, versions strictly increasing`, async () => {
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) => writerProcess(p * WRITERS_PER_PROCESS)),
    );
    const byWriter = Object.assign({}, ...results) as Record<string, number[]>;
    expect(Object.keys(byWriter)).toHaveLength(WRITERS);
    const all: number[] = [];
    for (const versions of Object.values(byWriter)) {
      expect(versions).toHaveLength(UPDATES);
      for (let i = 1; i < versions.length; i++)
        expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
      all.push(...versions);
    }
    // Every commit got its own version, and there were exactly as many versions as updates.
    expect(new Set(all).size).toBe(WRITERS * UPDATES);
    expect(Math.max(...all)).toBe(WRITERS * UPDATES);

    const record = await new RedisContextStore({ redis, prefix }).get('order-1');
    expect(record?.version).toBe(WRITERS * UPDATES);
    const expectedSet = Array.from({ length: UPDATES }, (_, i) => i);
    for (let w = 0; w < WRITERS; w++) {
      expect(record?.entries.get(`counter_${w}`)).toBe(UPDATES);
      expect(record?.entries.get(`set_${w}`)).toEqual(expectedSet);
    }
  }, 300_000);
});
