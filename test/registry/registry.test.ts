import { beforeEach, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  ContextKey,
  DContextError,
  get,
  initialize,
  isInitialized,
  RegistryBuilder,
  registeredKeys,
  Snapshot,
  scope,
  set,
  syncCtx,
  tryGet,
  tryInitialize,
} from '../../src/index.js';
import { resetRuntimeForTests } from '../../src/internal/testing.js';
import { codeOf } from '../support/codes.js';

beforeEach(() => resetRuntimeForTests());

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('registry', () => {
  it('gives every key a dense index in registration order, with its options', () => {
    const builder = new RegistryBuilder();
    builder.register<string>('request_id', { metadata: { logField: 'req_id' } });
    builder.registerLocal<object>('db_handle');
    builder.register<number>('retries', { version: 3 });
    initialize(builder);
    expect(registeredKeys().map((k) => [k.name, k.index, k.version, k.local])).toEqual([
      ['request_id', 0, 1, false],
      ['db_handle', 1, 1, true],
      ['retries', 2, 3, false],
    ]);
    expect(registeredKeys()[0]?.metadata).toEqual({ logField: 'req_id' });
  });

  it('refuses to register a name twice', () => {
    const builder = new RegistryBuilder();
    builder.register('tenant');
    expect(codeOf(() => builder.register('tenant'))).toBe('ALREADY_REGISTERED');
    expect(codeOf(() => new ContextKey('tenant').registerOn(builder))).toBe('ALREADY_REGISTERED');
  });

  it('freezes on initialize: a second initialize and late registrations throw REGISTRY_FROZEN', () => {
    const builder = new RegistryBuilder();
    builder.register('tenant');
    initialize(builder);
    expect(isInitialized()).toBe(true);
    expect(codeOf(() => initialize(new RegistryBuilder()))).toBe('REGISTRY_FROZEN');
    expect(codeOf(() => builder.register('late'))).toBe('REGISTRY_FROZEN');
    expect(tryInitialize(new RegistryBuilder())).toBe(false);
    expect(registeredKeys().map((k) => k.name)).toEqual(['tenant']);
  });

  it('tryInitialize initializes once and reports whether it did', () => {
    const builder = new RegistryBuilder();
    builder.register('tenant');
    expect(tryInitialize(builder)).toBe(true);
    expect(tryInitialize(builder)).toBe(false);
  });

  it('throws NOT_INITIALIZED from every store before initialize', () => {
    const key = new ContextKey<string>('tenant');
    expect(isInitialized()).toBe(false);
    expect(codeOf(() => syncCtx.get(key))).toBe('NOT_INITIALIZED');
    expect(codeOf(() => asyncCtx.get(key))).toBe('NOT_INITIALIZED');
    expect(codeOf(() => get(key))).toBe('NOT_INITIALIZED');
    expect(codeOf(() => syncCtx.enterScope())).toBe('NOT_INITIALIZED');
    expect(codeOf(() => syncCtx.scope(() => 1))).toBe('NOT_INITIALIZED');
    expect(codeOf(() => asyncCtx.scope(() => 1))).toBe('NOT_INITIALIZED');
    expect(codeOf(() => syncCtx.snapshot())).toBe('NOT_INITIALIZED');
  });

  it('tryGet never throws for want of initialize (a logger may read before startup ends)', () => {
    expect(isInitialized()).toBe(false);
    expect(syncCtx.tryGet('tenant')).toBeUndefined();
    expect(asyncCtx.tryGet(new ContextKey<string>('tenant'))).toBeUndefined();
    expect(tryGet('tenant')).toBeUndefined();
  });

  it('suggests the registered name a misspelt one was meant to be', () => {
    const builder = new RegistryBuilder();
    builder.register('request_id');
    builder.register('tenant');
    initialize(builder);
    const messageOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        return (error as DContextError).message;
      }
      return '';
    };
    expect(messageOf(() => get('requestId'))).toMatch(/did you mean 'request_id'/);
    expect(messageOf(() => get('tenantt'))).toMatch(/did you mean 'tenant'/);
    expect(messageOf(() => get('zzz'))).not.toMatch(/did you mean/);
  });

  it('throws NOT_REGISTERED for unknown names, while tryGet returns undefined', () => {
    const builder = new RegistryBuilder();
    builder.register('tenant');
    initialize(builder);
    expect(codeOf(() => syncCtx.get('nope'))).toBe('NOT_REGISTERED');
    expect(syncCtx.tryGet('nope')).toBeUndefined();
    expect(asyncCtx.tryGet(new ContextKey('nope'))).toBeUndefined();
    syncCtx.scope(() => {
      expect(codeOf(() => syncCtx.set('nope', 1))).toBe('NOT_REGISTERED');
    });
    try {
      syncCtx.get('nope');
    } catch (error) {
      expect((error as DContextError).key).toBe('nope');
      expect((error as DContextError).message).toMatch(/'nope' is not registered/);
    }
  });

  it('resolves a statically defined ContextKey registered on the builder, typed end to end', () => {
    const requestId = new ContextKey<string>('request_id');
    const builder = new RegistryBuilder();
    builder.register('other');
    requestId.registerOn(builder);
    initialize(builder);
    syncCtx.scope(() => {
      requestId.set('req-1');
      const value: string | undefined = requestId.get();
      expect(value).toBe('req-1');
      expect(syncCtx.get('request_id')).toBe('req-1');
    });
  });

  it('resolves an equal-named key object that was not itself registered, by name', () => {
    const builder = new RegistryBuilder();
    builder.register<string>('tenant');
    initialize(builder);
    const lookalike = new ContextKey<string>('tenant');
    syncCtx.scope(() => {
      syncCtx.set('tenant', 'acme');
      expect(syncCtx.get(lookalike)).toBe('acme');
    });
  });

  it('reads a key object registered on a builder that was never initialized by its name, not by its position there', () => {
    const stray = new ContextKey<string>('b');
    new RegistryBuilder().add(stray); // slot 0 of a builder nobody initializes
    const builder = new RegistryBuilder();
    const a = builder.register<string>('a');
    builder.register<string>('b');
    initialize(builder);
    syncCtx.scope(() => {
      a.set('A');
      syncCtx.set('b', 'B');
      expect(stray.get()).toBe('B');
      expect(syncCtx.get(stray)).toBe('B');
    });
  });

  it('forgets the slots of a replaced registry: a key object of the old one reads by name or throws', () => {
    const builder = new RegistryBuilder();
    const first = builder.register<string>('first');
    const second = builder.register<string>('second');
    initialize(builder);
    resetRuntimeForTests();
    const next = new RegistryBuilder();
    next.register<string>('second'); // now slot 0, where `first` used to be
    next.register<string>('third');
    initialize(next);
    syncCtx.scope(() => {
      syncCtx.set('second', 'S');
      expect(second.get()).toBe('S');
      expect(codeOf(() => first.get())).toBe('NOT_REGISTERED');
    });
  });

  it('resolves a structured clone of a key by name, as a key posted from a thread with another key order', () => {
    const first = new RegistryBuilder();
    const a = first.register<string>('a');
    first.register<string>('b');
    initialize(first);
    const posted = structuredClone(a); // what postMessage(a) delivers
    resetRuntimeForTests(); // the receiving thread registers the same names in another order
    const builder = new RegistryBuilder();
    builder.register<string>('b');
    builder.register<string>('a');
    initialize(builder);
    syncCtx.scope(() => {
      syncCtx.set('a', 'A');
      syncCtx.set('b', 'B');
      expect(syncCtx.get(posted as ContextKey<string>)).toBe('A');
      syncCtx.set(posted as ContextKey<string>, 'A2');
      expect(syncCtx.get('a')).toBe('A2');
      expect(syncCtx.get('b')).toBe('B');
    });
  });

  it('refuses a frozen key object at initialize with INVALID_ARGUMENT, and stays uninitialized', () => {
    const builder = new RegistryBuilder();
    const ok = builder.register<string>('ok');
    Object.freeze(new ContextKey<string>('frozen').registerOn(builder));
    const error = catchError(() => initialize(builder));
    expect(error).toBeInstanceOf(DContextError);
    expect((error as DContextError).code).toBe('INVALID_ARGUMENT');
    expect((error as DContextError).key).toBe('frozen');
    expect(isInitialized()).toBe(false);
    expect(codeOf(() => syncCtx.get(ok))).toBe('NOT_INITIALIZED');
  });

  it('returns the default factory value when nothing is set, a fresh one per read', () => {
    const builder = new RegistryBuilder();
    const flags = builder.register('flags', { default: () => ({ beta: false }) });
    const plain = builder.register<string>('plain');
    initialize(builder);
    expect(get(flags)).toEqual({ beta: false });
    expect(get(plain)).toBeUndefined();
    const first = get(flags)!;
    first.beta = true;
    expect(get(flags)).toEqual({ beta: false });
    syncCtx.scope(() => {
      syncCtx.set(flags, { beta: true });
      expect(get(flags)).toEqual({ beta: true });
      syncCtx.delete(flags);
      expect(get(flags)).toEqual({ beta: false });
    });
  });

  it('runs validate on every set; a rejected value is TYPE_MISMATCH and changes nothing', () => {
    const builder = new RegistryBuilder();
    const tenant = builder.register<string>('tenant', { validate: (v) => typeof v === 'string' });
    initialize(builder);
    syncCtx.scope(() => {
      syncCtx.set(tenant, 'acme');
      expect(codeOf(() => syncCtx.set('tenant', 42))).toBe('TYPE_MISMATCH');
      expect(codeOf(() => syncCtx.update('tenant', () => 7))).toBe('TYPE_MISMATCH');
      expect(syncCtx.get(tenant)).toBe('acme');
      expect(codeOf(() => Snapshot.empty().with('tenant', 1))).toBe('TYPE_MISMATCH');
    });
    void scope(() => {
      expect(codeOf(() => set('tenant', {}))).toBe('TYPE_MISMATCH');
    });
  });

  it('treats a validate predicate that throws as a rejection, keeping its error as the cause', () => {
    const builder = new RegistryBuilder();
    const name = builder.register<string>('name', {
      validate: (v) => (v as string).length > 0,
    });
    initialize(builder);
    syncCtx.scope(() => {
      syncCtx.set(name, 'ok');
      let caught: unknown;
      try {
        syncCtx.set('name', null);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DContextError);
      expect((caught as DContextError).code).toBe('TYPE_MISMATCH');
      expect((caught as DContextError).cause).toBeInstanceOf(TypeError);
      expect(syncCtx.get(name)).toBe('ok');
    });
  });

  it('rejects invalid versions and names at registration', () => {
    const builder = new RegistryBuilder();
    expect(codeOf(() => builder.register('v0', { version: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => builder.register(''))).toBe('INVALID_ARGUMENT');
    expect(builder.has('v0')).toBe(false);
  });
});

describe('key options are checked when the key is registered', () => {
  it.each([
    ['options that are a number', 5],
    ['an unknown codec name', { codec: 'json' }],
    ['a codec object without encode/decode', { codec: {} }],
    ['a default that is not a function', { default: 5 }],
    ['a validate that is not a function', { validate: 5 }],
    ['metadata that is a number', { metadata: 5 }],
    ['a version whose wire header is not a safe integer', { version: 2 ** 60 }],
  ])('refuses %s with INVALID_ARGUMENT', (_label, options) => {
    expect(() => new RegistryBuilder().register('a', options as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', key: 'a' }),
    );
  });

  it('refuses a migration that is not a function with INVALID_ARGUMENT', () => {
    const builder = new RegistryBuilder();
    builder.register('a', { version: 2 });
    expect(() => builder.registerMigration('a', 1, 42 as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', key: 'a' }),
    );
  });

  it('takes the largest version whose header is safe', () => {
    const version = Math.floor(Number.MAX_SAFE_INTEGER / 4);
    expect(() => new RegistryBuilder().register('a', { version })).not.toThrow();
  });
});
