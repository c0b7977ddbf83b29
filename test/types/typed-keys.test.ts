/**
 * Compile-time contract of typed keys: `tsc --noEmit` (run in CI) checks this file. A typed key
 * rejects a value of the wrong type on every verb that writes; a key with a default reads as `T`;
 * reads and writes by name stay `unknown`. Each `@ts-expect-error` fails the type-check if the
 * line below it ever compiles.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  asyncCtx,
  ContextKey,
  get,
  type KeyRef,
  RegistryBuilder,
  Snapshot,
  set,
  syncCtx,
  tryGet,
  update,
} from '../../src/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', { default: () => 'public' });
const retries = builder.registerLocal<number>('retries', { default: () => 0 });
const declared = new ContextKey<string, true>('declared', { default: () => 'd' });
const plain = new ContextKey<number>('plain');

// Only type positions: nothing here runs (the registry is never initialized).
function typeChecks(): void {
  // @ts-expect-error a string key takes no number
  set(requestId, 42);
  // @ts-expect-error through asyncCtx
  asyncCtx.set(requestId, 42);
  // @ts-expect-error through syncCtx
  syncCtx.set(requestId, 42);
  // @ts-expect-error through the key itself
  requestId.set(42);
  // @ts-expect-error a snapshot's with
  Snapshot.empty().with(requestId, 42);
  // @ts-expect-error update must return the key's type
  update(requestId, () => 42);
  // @ts-expect-error a local key is typed too
  set(retries, 'three');
  // @ts-expect-error a key declared with a default needs one
  new ContextKey<string, true>('no-default', {});

  // A union of keys takes only a value every one of them takes: which one is written is unknown.
  const either = Math.random() > 0.5 ? requestId : retries;
  // @ts-expect-error a string is not a number
  set(either, 'x');
  // @ts-expect-error through asyncCtx
  asyncCtx.set(either, 5);
  // @ts-expect-error through update
  update(either, () => 'x');
  // @ts-expect-error through a snapshot's with
  Snapshot.empty().with(either, 'x');
  const strings = Math.random() > 0.5 ? requestId : tenant;
  set(strings, 'both take a string');
  // Generic code over a typed key still compiles.
  const setTyped = <T>(key: ContextKey<T>, value: T): void => set(key, value);
  setTyped(requestId, 'typed');

  set(requestId, 'req-1');
  set(requestId, undefined); // unsets, as delete does
  set('request_id', 42); // by name: unchecked, validated at run time only
  Snapshot.empty().with('tenant', 1);

  expectTypeOf(get(requestId)).toEqualTypeOf<string | undefined>();
  expectTypeOf(get(tenant)).toEqualTypeOf<string>();
  expectTypeOf(get(retries)).toEqualTypeOf<number>();
  expectTypeOf(get(declared)).toEqualTypeOf<string>();
  expectTypeOf(get(plain)).toEqualTypeOf<number | undefined>();
  expectTypeOf(get('tenant')).toEqualTypeOf<unknown>();
  expectTypeOf(tenant.get()).toEqualTypeOf<string>();
  expectTypeOf(requestId.get()).toEqualTypeOf<string | undefined>();
  expectTypeOf(asyncCtx.get(tenant)).toEqualTypeOf<string>();
  expectTypeOf(syncCtx.get(requestId)).toEqualTypeOf<string | undefined>();
  expectTypeOf(Snapshot.empty().get(tenant)).toEqualTypeOf<string>();
  expectTypeOf(tryGet(tenant)).toEqualTypeOf<string | undefined>();
  update(tenant, (current) => {
    expectTypeOf(current).toEqualTypeOf<string>();
    return current.toUpperCase();
  });

  // Code generic over any key (an integration) still compiles, untyped.
  const anyKey: KeyRef = Math.random() > 0.5 ? requestId : 'tenant';
  expectTypeOf(get(anyKey)).toEqualTypeOf<unknown>();
  set(anyKey, 'x');
}

describe('typed keys', () => {
  it('are checked by the compiler (this file is part of `tsc --noEmit`)', () => {
    expectTypeOf(typeChecks).toBeFunction();
  });
});
