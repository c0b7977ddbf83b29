import { describe, expect, it } from 'vitest';
import { asyncCtx, get, initialize, RegistryBuilder, syncCtx } from '../../src/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `schedule` inside a sync scope holding `id`, and resolves with what the callback read. */
function scheduledRead(id: string, schedule: (read: () => void) => void): Promise<unknown> {
  return new Promise((resolve) => {
    syncCtx.scope(() => {
      syncCtx.set(requestId, id);
      schedule(() => resolve(syncCtx.get(requestId)));
    });
  });
}

describe('syncCtx deferred work', () => {
  it('loses the context with the plain scheduling functions (the gap these helpers close)', async () => {
    await expect(scheduledRead('r-plain', (read) => setImmediate(read))).resolves.toBeUndefined();
    await expect(scheduledRead('r-plain', (read) => setTimeout(read, 1))).resolves.toBeUndefined();
    await expect(scheduledRead('r-plain', (read) => queueMicrotask(read))).resolves.toBeUndefined();
  });

  it('runs setImmediate callbacks in the context captured when scheduled', async () => {
    await expect(scheduledRead('r-imm', (read) => syncCtx.setImmediate(read))).resolves.toBe(
      'r-imm',
    );
  });

  it('runs setTimeout callbacks in the context captured when scheduled', async () => {
    await expect(scheduledRead('r-timeout', (read) => syncCtx.setTimeout(read, 5))).resolves.toBe(
      'r-timeout',
    );
  });

  it('runs queueMicrotask callbacks in the context captured when scheduled', async () => {
    await expect(scheduledRead('r-micro', (read) => syncCtx.queueMicrotask(read))).resolves.toBe(
      'r-micro',
    );
  });

  it('passes the arguments through and returns the timer handles', async () => {
    const seen: unknown[] = [];
    let immediate: NodeJS.Immediate | undefined;
    let timeout: NodeJS.Timeout | undefined;
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'r-args');
      immediate = syncCtx.setImmediate(
        (a: number, b: string) => seen.push([a, b, get(requestId)]),
        1,
        'x',
      );
      timeout = syncCtx.setTimeout((a: boolean) => seen.push([a, get(requestId)]), 1, true);
    });
    await sleep(10);
    // Either may run first: on a busy machine the 1 ms timer is due before the immediate's turn.
    expect(seen).toHaveLength(2);
    expect(seen).toEqual(
      expect.arrayContaining([
        [1, 'x', 'r-args'],
        [true, 'r-args'],
      ]),
    );
    expect(typeof immediate?.hasRef).toBe('function');
    expect(typeof timeout?.refresh).toBe('function');
  });

  it('can cancel what it scheduled with clearTimeout / clearImmediate', async () => {
    let ran = false;
    syncCtx.scope(() => {
      clearTimeout(syncCtx.setTimeout(() => (ran = true), 1));
      clearImmediate(syncCtx.setImmediate(() => (ran = true)));
    });
    await sleep(10);
    expect(ran).toBe(false);
  });

  it('gives each callback a fresh scope: its writes reach neither the scheduler nor other callbacks', async () => {
    const reads: unknown[] = [];
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'r-origin');
      for (let i = 0; i < 2; i++) {
        syncCtx.setImmediate(() => {
          reads.push(syncCtx.get(requestId));
          syncCtx.set(requestId, `r-overwritten-${i}`);
        });
      }
      expect(syncCtx.get(requestId)).toBe('r-origin');
    });
    await tick();
    expect(reads).toEqual(['r-origin', 'r-origin']);
    expect(syncCtx.isActive()).toBe(false);
  });

  it("keeps the callback's context when other scopes run before it fires", async () => {
    const reads: unknown[] = [];
    for (const id of ['r-a', 'r-b', 'r-c']) {
      syncCtx.scope(() => {
        syncCtx.set(requestId, id);
        syncCtx.setTimeout(() => reads.push(syncCtx.get(requestId)), 3);
      });
    }
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'r-later');
      syncCtx.queueMicrotask(() => reads.push(syncCtx.get(requestId)));
    });
    await sleep(15);
    expect(reads).toEqual(['r-later', 'r-a', 'r-b', 'r-c']);
  });
});

describe('asyncCtx follows deferred work by itself', () => {
  const cases: [string, (read: () => void) => void][] = [
    ['setImmediate', (read) => setImmediate(read)],
    ['setTimeout', (read) => setTimeout(read, 1)],
    ['queueMicrotask', (read) => queueMicrotask(read)],
    ['process.nextTick', (read) => process.nextTick(read)],
    ['a promise callback', (read) => void Promise.resolve().then(read)],
    ['syncCtx.setImmediate', (read) => syncCtx.setImmediate(read)],
    ['syncCtx.setTimeout', (read) => syncCtx.setTimeout(read, 1)],
    ['syncCtx.queueMicrotask', (read) => syncCtx.queueMicrotask(read)],
  ];

  for (const [name, schedule] of cases) {
    it(`through ${name} (Node ${process.versions.node})`, async () => {
      const read = await asyncCtx.scope('request', () => {
        asyncCtx.set(requestId, `r-${name}`);
        return new Promise<unknown[]>((resolve) =>
          schedule(() => resolve([asyncCtx.get(requestId), asyncCtx.scopeChain()])),
        );
      });
      expect(read).toEqual([`r-${name}`, ['request']]);
    });
  }

  it('through await, with many interleaved scopes', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `r-${i}`);
    const reads = await Promise.all(
      ids.map((id, i) =>
        asyncCtx.scope(async () => {
          asyncCtx.set(requestId, id);
          await sleep(i % 5);
          await tick();
          return asyncCtx.get(requestId);
        }),
      ),
    );
    expect(reads).toEqual(ids);
  });
});
