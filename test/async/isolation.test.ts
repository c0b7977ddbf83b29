import { beforeAll, describe, expect, it } from 'vitest';
import { asyncCtx, initialize, RegistryBuilder, scope } from '../../src/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const step = builder.register<number>('step');
const path = builder.register<string>('path');

beforeAll(() => initialize(builder));

/** A pseudo-random delay: an await, a timer, a setImmediate or nothing. */
function randomDelay(random: () => number): Promise<void> {
  const pick = random();
  if (pick < 0.25) return Promise.resolve();
  if (pick < 0.5) return new Promise((r) => setImmediate(r));
  if (pick < 0.75) return new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
  return new Promise((r) => queueMicrotask(r));
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('isolation under concurrency', () => {
  it('10,000 interleaved scopes with random delays, nested scopes and siblings read only their own values', async () => {
    const random = mulberry32(0xdc0);
    const mismatches: string[] = [];
    const check = (what: string, expected: unknown, actual: unknown) => {
      if (expected !== actual)
        mismatches.push(`${what}: expected ${String(expected)}, got ${String(actual)}`);
    };

    const task = (id: number) =>
      scope(`request-${id}`, async () => {
        const mine = `req-${id}`;
        asyncCtx.set(requestId, mine);
        await randomDelay(random);
        check('after first delay', mine, asyncCtx.get(requestId));

        // Two sibling child scopes running concurrently, each with its own step value.
        await Promise.all(
          [1, 2].map((n) =>
            asyncCtx.scope(`child-${n}`, async () => {
              asyncCtx.set(step, n);
              await randomDelay(random);
              check('child request id', mine, asyncCtx.get(requestId));
              check('child step', n, asyncCtx.get(step));
              await asyncCtx.scope(async () => {
                asyncCtx.set(path, `${mine}/${n}`);
                await randomDelay(random);
                check('grandchild path', `${mine}/${n}`, asyncCtx.get(path));
                check('grandchild step', n, asyncCtx.get(step));
              });
              check('path rolled back', undefined, asyncCtx.get(path));
              const chain = asyncCtx.scopeChain().join('>');
              check('chain', `request-${id}>child-${n}`, chain);
            }),
          ),
        );
        check('step rolled back', undefined, asyncCtx.get(step));
        await randomDelay(random);
        check('at the end', mine, asyncCtx.get(requestId));
      });

    await Promise.all(Array.from({ length: 10_000 }, (_, id) => task(id)));
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(mismatches.length).toBe(0);
    expect(asyncCtx.isActive()).toBe(false);
  });
});
