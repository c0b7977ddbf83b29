import { beforeAll, describe, expect, it } from 'vitest';
import { initialize, RegistryBuilder, Snapshot, snapshot, syncCtx } from '../../src/index.js';
import { codeOf } from '../support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const flags = builder.register<Record<string, boolean>>('flags', { default: () => ({}) });
const handle = builder.registerLocal<{ id: number }>('handle');
beforeAll(() => initialize(builder));

describe('Snapshot', () => {
  it('Snapshot.empty() has no values, only defaults, and no chain', () => {
    const empty = Snapshot.empty();
    expect(empty.get(requestId)).toBeUndefined();
    expect(empty.get(flags)).toEqual({});
    expect(empty.has(flags)).toBe(false);
    expect(empty.scopeChain).toEqual([]);
    expect([...empty.entries()]).toEqual([]);
  });

  it('with() returns a new snapshot and leaves the original untouched', () => {
    const base = Snapshot.empty().with(requestId, 'r1');
    const next = base.with('handle', { id: 7 }).with(requestId, 'r2');
    expect(base.get(requestId)).toBe('r1');
    expect(base.has('handle')).toBe(false);
    expect(next.get(requestId)).toBe('r2');
    expect(next.get(handle)).toEqual({ id: 7 });
    expect(next.with(requestId, undefined).has(requestId)).toBe(false);
  });

  it('captures values, local keys and the scope chain; lists set entries in registration order', () => {
    const snap = syncCtx.scope('ingress', () =>
      syncCtx.scope('auth', () => {
        syncCtx.set(handle, { id: 1 });
        syncCtx.set(requestId, 'r1');
        return snapshot();
      }),
    );
    expect(snap.scopeChain).toEqual(['ingress', 'auth']);
    expect([...snap.entries()]).toEqual([
      ['request_id', 'r1'],
      ['handle', { id: 1 }],
    ]);
  });

  it('throws NOT_REGISTERED for unknown names', () => {
    expect(codeOf(() => Snapshot.empty().get('missing'))).toBe('NOT_REGISTERED');
    expect(codeOf(() => Snapshot.empty().with('missing', 1))).toBe('NOT_REGISTERED');
  });
});

describe('Snapshots are immutable in fact', () => {
  it('expose nothing through which the live scope can be changed', () => {
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'live');
      const snap = snapshot() as unknown as Record<string, unknown>;
      // What used to be the frame's own array is not reachable by name.
      expect(snap.values).toBeUndefined();
      expect(Object.keys(snap)).toEqual([]);
      expect(JSON.stringify(snap)).toBe('{}');
      for (const name of Object.getOwnPropertyNames(snap)) {
        const field = snap[name];
        if (Array.isArray(field)) field[0] = 'forged';
      }
      expect(syncCtx.get(requestId)).toBe('live');
      expect((snap as unknown as Snapshot).get(requestId)).toBe('live');
    });
  });

  it('Snapshot.empty() shares nothing between callers', () => {
    const first = Snapshot.empty() as unknown as { values?: unknown[] };
    // Before: both returned one shared array, so a write into one poisoned every later one.
    expect(first.values).toBeUndefined();
    expect(Snapshot.empty()).not.toBe(Snapshot.empty());
    syncCtx.withContext(Snapshot.empty(), () => syncCtx.set(requestId, 'request A'));
    expect(syncCtx.withContext(Snapshot.empty(), () => syncCtx.get(requestId))).toBeUndefined();
  });

  it('is named Snapshot and recognised by instanceof', () => {
    const snap = snapshot();
    expect(snap.constructor.name).toBe('Snapshot');
    expect(snap).toBeInstanceOf(Snapshot);
    expect({} instanceof Snapshot).toBe(false);
  });
});

describe('Snapshots as logged', () => {
  it('console.log shows the scope chain and the values by key name, not internal fields', async () => {
    const { inspect } = await import('node:util');
    const shown = syncCtx.scope('handler', () => {
      syncCtx.set(requestId, 'r-9');
      return inspect(snapshot());
    });
    expect(shown).toContain("scopeChain: [ 'handler' ]");
    expect(shown).toContain("request_id: 'r-9'");
    expect(shown).not.toContain('Symbol(');
  });
});
