/**
 * A sync guard held across an await (misuse) must never let its values reach code that did not
 * open it: dcontext closes it at the end of the tick, warns naming the scope, and the guard's own
 * late exit() throws SCOPE_LEAKED instead of corrupting the stack.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { get, initialize, RegistryBuilder, set, syncCtx } from '../../src/index.js';
import { codeOf, sleep } from '../support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
beforeAll(() => initialize(builder));

/** Captures the DContextWarnings emitted while the test runs. */
function captureWarnings(): string[] {
  const seen: string[] = [];
  vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error) => {
    seen.push(String(warning));
  }) as typeof process.emitWarning);
  return seen;
}
afterEach(() => vi.restoreAllMocks());

describe('a sync guard held across an await', () => {
  it('is closed at the end of its tick: outside code reads the root, never a request', async () => {
    const warnings = captureWarnings();
    const request = async (id: string): Promise<string | undefined> => {
      const guard = syncCtx.enterNamedScope(`req-${id}`);
      syncCtx.set(requestId, id);
      await sleep(Math.random() * 5);
      const seen = syncCtx.get(requestId);
      expect(codeOf(() => guard.exit())).toBe('SCOPE_LEAKED');
      return seen;
    };
    const a = request('A');
    const b = request('B');
    // Between the requests' turns, code that opened no scope sees only the root.
    await sleep(1);
    expect(syncCtx.get(requestId)).toBeUndefined();
    expect(get(requestId)).toBeUndefined();
    expect(syncCtx.isActive()).toBe(false);
    expect(codeOf(() => set(requestId, 'x'))).toBe('NO_ACTIVE_SCOPE');
    const timerSaw = await new Promise((resolve) => setTimeout(() => resolve(get(requestId)), 2));
    expect(timerSaw).toBeUndefined();
    // After the await each request no longer has its scope: it reads the root, not the other's.
    expect(await a).toBeUndefined();
    expect(await b).toBeUndefined();
    expect(warnings.some((w) => /req-A/.test(w) && /still open when its tick ended/.test(w))).toBe(
      true,
    );
    expect(warnings.some((w) => /req-B/.test(w))).toBe(true);
  });

  it('never shows one task the values of another, with many interleaved tasks', async () => {
    captureWarnings();
    const mismatches: string[] = [];
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await sleep(Math.random() * 5);
        // Every task reads first: whatever it sees must not be another task's value.
        const before = syncCtx.get(requestId);
        if (before !== undefined) mismatches.push(`task ${i} saw ${before} before entering`);
        const guard = syncCtx.enterScope();
        syncCtx.set(requestId, `t${i}`);
        if (syncCtx.get(requestId) !== `t${i}`) mismatches.push(`task ${i} lost its own value`);
        await sleep(Math.random() * 5);
        const after = syncCtx.get(requestId);
        if (after !== undefined) mismatches.push(`task ${i} saw ${after} after its await`);
        codeOf(() => guard.exit());
      }),
    );
    expect(mismatches).toEqual([]);
    expect(syncCtx.isActive()).toBe(false);
  });

  it('leaves guards used correctly alone, nested and in the same tick', async () => {
    const warnings = captureWarnings();
    for (let i = 0; i < 3; i++) {
      const outer = syncCtx.enterNamedScope('outer');
      syncCtx.set(requestId, 'o');
      {
        using inner = syncCtx.enterScope();
        syncCtx.set(requestId, 'i');
        expect(inner.isOpen).toBe(true);
      }
      expect(syncCtx.get(requestId)).toBe('o');
      outer.exit();
      await sleep(1);
    }
    expect(warnings).toEqual([]);
    expect(syncCtx.isActive()).toBe(false);
  });

  it('still reports closing out of order in one tick as SCOPE_ORDER, changing nothing', () => {
    const outer = syncCtx.enterScope();
    const inner = syncCtx.enterScope();
    expect(codeOf(() => outer.exit())).toBe('SCOPE_ORDER');
    expect(inner.isOpen).toBe(true);
    inner.exit();
    outer.exit();
    expect(syncCtx.isActive()).toBe(false);
  });
});

describe('leaks the tick-end check cannot see (known, not fixed)', () => {
  // The sync store cannot tell two async functions apart while they run in one synchronous
  // stretch: `Promise.all(ids.map(async …))` starts every task before any of them awaits, so
  // task 2's guard opens inside task 1's leaked frame and inherits its values. The leak check
  // runs only when the tick's microtasks reach it. Fixing this needs a task identity for the sync
  // store (e.g. checking the async resource at entry), which it does not have.
  it.fails('does not show a task started in the same tick the values of the task before it', async () => {
    captureWarnings();
    const seenBefore: (string | undefined)[] = [];
    await Promise.all(
      ['A', 'B', 'C'].map(async (id) => {
        seenBefore.push(syncCtx.get(requestId));
        const guard = syncCtx.enterNamedScope(`req-${id}`);
        syncCtx.set(requestId, id);
        await null;
        codeOf(() => guard.exit());
      }),
    );
    expect(seenBefore).toEqual([undefined, undefined, undefined]);
  });

  // The check is a microtask queued when the guard opens: a microtask queued earlier (another
  // request's continuation) runs first, while the leaked frame is still current.
  it.fails('does not show a leaked frame to a microtask queued before the guard opened', async () => {
    captureWarnings();
    let seen: unknown = 'not run';
    const other = Promise.resolve().then(() => {
      seen = [syncCtx.get(requestId), get(requestId)];
    });
    const guard = syncCtx.enterNamedScope('req-A');
    syncCtx.set(requestId, 'A');
    await other;
    codeOf(() => guard.exit());
    expect(seen).toEqual([undefined, undefined]);
  });
});
