import { beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  initialize,
  RegistryBuilder,
  type ScopeGuard,
  setMaxScopeChainLength,
  syncCtx,
} from '../../src/index.js';
import { codeOf } from '../support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const counter = builder.register<number>('counter', { default: () => 0 });

beforeAll(() => initialize(builder));

describe('syncCtx scopes', () => {
  it('rolls back values when the scope returns', () => {
    const result = syncCtx.scope(() => {
      syncCtx.set(requestId, 'r1');
      return syncCtx.get(requestId);
    });
    expect(result).toBe('r1');
    expect(syncCtx.get(requestId)).toBeUndefined();
  });

  it('rolls back values when the scope throws', () => {
    syncCtx.scope(() => {
      syncCtx.set(tenant, 'outer');
      expect(() =>
        syncCtx.scope(() => {
          syncCtx.set(tenant, 'inner');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(syncCtx.get(tenant)).toBe('outer');
    });
  });

  it('lets a child see the parent values and shadow them without touching the parent', () => {
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'parent');
      syncCtx.set(tenant, 'acme');
      syncCtx.scope(() => {
        expect(syncCtx.get(requestId)).toBe('parent');
        syncCtx.set(requestId, 'child');
        expect(syncCtx.get(requestId)).toBe('child');
        expect(syncCtx.get(tenant)).toBe('acme');
      });
      expect(syncCtx.get(requestId)).toBe('parent');
    });
  });

  it('writes at the root are refused with NO_ACTIVE_SCOPE: the root is read-only', () => {
    expect(syncCtx.isActive()).toBe(false);
    expect(codeOf(() => syncCtx.set(requestId, 'leak'))).toBe('NO_ACTIVE_SCOPE');
    expect(codeOf(() => syncCtx.update(counter, (n) => (n ?? 0) + 1))).toBe('NO_ACTIVE_SCOPE');
    expect(codeOf(() => syncCtx.delete(requestId))).toBe('NO_ACTIVE_SCOPE');
    expect(syncCtx.get(requestId)).toBeUndefined();
  });

  it('update applies a function to the current value (or the default)', () => {
    syncCtx.scope(() => {
      syncCtx.update(counter, (n) => (n ?? 0) + 1);
      syncCtx.update(counter, (n) => (n ?? 0) + 1);
      expect(syncCtx.get(counter)).toBe(2);
    });
    expect(syncCtx.get(counter)).toBe(0);
  });

  it('throws ASYNC_IN_SYNC_SCOPE for a promise-returning fn, after restoring the stack', () => {
    syncCtx.scope(() => {
      syncCtx.set(tenant, 'outer');
      expect(
        codeOf(() =>
          syncCtx.scope(async () => {
            syncCtx.set(tenant, 'inner');
          }),
        ),
      ).toBe('ASYNC_IN_SYNC_SCOPE');
      expect(syncCtx.get(tenant)).toBe('outer');
    });
    expect(syncCtx.isActive()).toBe(false);
  });
});

describe('syncCtx guards', () => {
  it('closes a `using` guard at the end of the block', () => {
    {
      using _guard = syncCtx.enterNamedScope('ingress');
      syncCtx.set(requestId, 'r1');
      expect(syncCtx.scopeChain()).toEqual(['ingress']);
    }
    expect(syncCtx.get(requestId)).toBeUndefined();
    expect(syncCtx.scopeChain()).toEqual([]);
  });

  it('closes guards in LIFO order; out of order is SCOPE_ORDER and leaves the stack intact', () => {
    const outer = syncCtx.enterNamedScope('outer');
    syncCtx.set(requestId, 'outer');
    const inner = syncCtx.enterNamedScope('inner');
    syncCtx.set(requestId, 'inner');
    expect(codeOf(() => outer.exit())).toBe('SCOPE_ORDER');
    expect(outer.isOpen).toBe(true);
    expect(syncCtx.get(requestId)).toBe('inner');
    expect(syncCtx.scopeChain()).toEqual(['outer', 'inner']);
    inner.exit();
    inner.exit(); // second exit is a no-op
    expect(syncCtx.get(requestId)).toBe('outer');
    outer[Symbol.dispose]();
    expect(syncCtx.isActive()).toBe(false);
  });

  it('restores the stack when a scope callback leaks an open guard', () => {
    let leaked: ScopeGuard | undefined;
    syncCtx.scope(() => {
      leaked = syncCtx.enterScope();
      syncCtx.set(requestId, 'leaked');
    });
    expect(syncCtx.isActive()).toBe(false);
    expect(syncCtx.get(requestId)).toBeUndefined();
    expect(codeOf(() => leaked?.exit())).toBe('SCOPE_ORDER');
  });
});

describe('scope chain', () => {
  it('lists named scopes outermost first and skips unnamed ones', () => {
    syncCtx.scope('ingress', () => {
      syncCtx.scope(() => {
        syncCtx.scope('db', () => {
          expect(syncCtx.scopeChain()).toEqual(['ingress', 'db']);
        });
      });
      expect(syncCtx.scopeChain()).toEqual(['ingress']);
    });
  });

  it('gives every scope the chain of its own names when siblings and repeats alternate', () => {
    const seen: string[][] = [];
    for (const names of [
      ['a', 'b'],
      ['a', 'c'],
      ['a', 'b'],
      ['x', 'b'],
      ['a', 'b', 'b'],
    ]) {
      const enter = (i: number): void => {
        if (i === names.length) seen.push(syncCtx.scopeChain());
        else syncCtx.scope(names[i]!, () => enter(i + 1));
      };
      enter(0);
    }
    expect(seen).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['a', 'b'],
      ['x', 'b'],
      ['a', 'b', 'b'],
    ]);
    // A chain kept by a snapshot does not change when later scopes reuse its nodes.
    const kept = syncCtx.scope('a', () => syncCtx.scope('b', () => syncCtx.snapshot()));
    syncCtx.scope('a', () => syncCtx.scope('z', () => undefined));
    expect(kept.scopeChain).toEqual(['a', 'b']);
    // A logger that JSON-serializes whatever it is given must not meet a cycle.
    expect(() => JSON.stringify(kept)).not.toThrow();
  });

  it('applies a lowered setMaxScopeChainLength to names entered before', () => {
    syncCtx.scope('a', () => syncCtx.scope('b', () => syncCtx.scope('c', () => undefined)));
    setMaxScopeChainLength(2);
    try {
      const chain = syncCtx.scope('a', () =>
        syncCtx.scope('b', () => syncCtx.scope('c', () => syncCtx.scopeChain())),
      );
      expect(chain).toEqual(['a', 'b']);
    } finally {
      setMaxScopeChainLength(64);
    }
  });

  it('stops appending names past setMaxScopeChainLength, while the scopes still work', () => {
    setMaxScopeChainLength(2);
    try {
      syncCtx.scope('a', () =>
        syncCtx.scope('b', () =>
          syncCtx.scope('c', () => {
            syncCtx.set(requestId, 'deep');
            expect(syncCtx.scopeChain()).toEqual(['a', 'b']);
            expect(syncCtx.get(requestId)).toBe('deep');
          }),
        ),
      );
    } finally {
      setMaxScopeChainLength(64);
    }
    expect(codeOf(() => setMaxScopeChainLength(-1))).toBe('INVALID_ARGUMENT');
  });
});

describe('snapshots across the stores', () => {
  it('attach and withContext run with the snapshot values and chain as a new scope', () => {
    const snap = syncCtx.scope('ingress', () => {
      syncCtx.set(requestId, 'r1');
      return syncCtx.snapshot();
    });
    syncCtx.withContext(snap, () => {
      expect(syncCtx.get(requestId)).toBe('r1');
      expect(syncCtx.scopeChain()).toEqual(['ingress']);
      syncCtx.set(requestId, 'changed');
    });
    expect(snap.get(requestId)).toBe('r1');
    {
      using _guard = syncCtx.attach(snap);
      expect(syncCtx.get(requestId)).toBe('r1');
    }
    expect(syncCtx.get(requestId)).toBeUndefined();
  });

  it('crosses from syncCtx to asyncCtx and back', async () => {
    const snap = syncCtx.scope('sync-side', () => {
      syncCtx.set(tenant, 'acme');
      return syncCtx.snapshot();
    });
    const back = await asyncCtx.withContext(snap, () =>
      asyncCtx.scope('async-side', async () => {
        await new Promise((r) => setImmediate(r));
        expect(asyncCtx.get(tenant)).toBe('acme');
        expect(asyncCtx.scopeChain()).toEqual(['sync-side', 'async-side']);
        return asyncCtx.snapshot();
      }),
    );
    syncCtx.withContext(back, () => {
      expect(syncCtx.get(tenant)).toBe('acme');
      expect(syncCtx.scopeChain()).toEqual(['sync-side', 'async-side']);
    });
  });

  it('bind runs the callback in the context captured at bind time, a fresh scope per call', () => {
    const bound = syncCtx.scope(() => {
      syncCtx.set(requestId, 'captured');
      return syncCtx.bind((suffix: string) => {
        const seen = `${syncCtx.get(requestId)}-${suffix}`;
        syncCtx.set(requestId, 'overwritten');
        return seen;
      });
    });
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'caller');
      expect(bound('a')).toBe('captured-a');
      expect(bound('b')).toBe('captured-b');
      expect(syncCtx.get(requestId)).toBe('caller');
    });
  });
});
