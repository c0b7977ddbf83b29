/**
 * The top-level verbs. `scope`, `withContext` and `bind` always use `asyncCtx` (they accept sync
 * and async functions alike). `get`, `tryGet`, `set`, `update`, `snapshot` and `scopeChain` use
 * `asyncCtx` when an async scope is active, else `syncCtx` (whose root is what is read outside
 * any scope).
 */
import { asyncCtx } from './async/async-context.js';
import { DContextError } from './errors.js';
import { runtime } from './internal/runtime.js';
import type { ContextKey } from './registry/context-key.js';
import { currentRegistry, findDefinition, requireDefinition } from './registry/registry.js';
import { type Frame, readValue, writeSlot } from './store/frame.js';
import { chainToArray } from './store/scope-chain.js';
import { type KeyRef, Snapshot } from './store/snapshot.js';
import { readKey } from './store/store.js';

const als = runtime.als;

function activeFrame(): Frame {
  return als.getStore() ?? runtime.syncCurrent;
}

/** The value of `key` in the active store (its default when unset). */
export function get<T>(key: ContextKey<T>): T | undefined;
export function get(key: string): unknown;
export function get(key: KeyRef): unknown {
  return readKey(activeFrame().values, key);
}

/** Like `get`, but an unknown name returns `undefined` instead of throwing `NOT_REGISTERED`. */
export function tryGet<T>(key: ContextKey<T>): T | undefined;
export function tryGet(key: string): unknown;
export function tryGet(key: KeyRef): unknown {
  const definition = findDefinition(key);
  return definition === undefined ? undefined : readValue(activeFrame().values, definition);
}

/** Sets `key` in the innermost scope of the active store. */
export function set<T>(key: ContextKey<T>, value: T): void;
export function set(key: string, value: unknown): void;
export function set(key: KeyRef, value: unknown): void {
  writeSlot(activeFrame(), requireDefinition(key), value);
}

/** Sets `key` to `fn(current value)` in the active store. */
export function update<T>(key: ContextKey<T>, fn: (current: T | undefined) => T): void;
export function update(key: string, fn: (current: unknown) => unknown): void;
export function update(key: KeyRef, fn: (current: never) => unknown): void {
  const definition = requireDefinition(key);
  const frame = activeFrame();
  writeSlot(frame, definition, fn(readValue(frame.values, definition) as never));
}

/** The named scopes of the active store, outermost first. */
export function scopeChain(): string[] {
  currentRegistry();
  return chainToArray(activeFrame().chain);
}

/** An immutable capture of the active store's context. */
export function snapshot(): Snapshot {
  currentRegistry();
  return Snapshot.capture(activeFrame());
}

/**
 * Runs `fn` in a new async scope (named when `name` is given); works for sync and async `fn`.
 * @example
 * await scope('handler', async () => { set(requestId, 'r1'); await next(); });
 */
export function scope<R>(fn: () => R): R;
export function scope<R>(name: string, fn: () => R): R;
export function scope<R>(nameOrFn: string | (() => R), maybeFn?: () => R): R {
  return typeof nameOrFn === 'string'
    ? asyncCtx.scope(nameOrFn, maybeFn as () => R)
    : asyncCtx.scope(nameOrFn);
}

/** Runs `fn` (sync or async) in the snapshot's context, as a new async scope. */
export function withContext<R>(snapshot: Snapshot, fn: () => R): R {
  return asyncCtx.withContext(snapshot, fn);
}

/** A function that runs `fn` in the async context captured now. */
export function bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return asyncCtx.bind(fn);
}

/**
 * Caps how many names `scopeChain()` holds (default 64). Names past the cap are not appended;
 * the scopes themselves still work.
 */
export function setMaxScopeChainLength(length: number): void {
  if (!Number.isInteger(length) || length < 0) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `setMaxScopeChainLength needs an integer >= 0 (got ${String(length)})`,
    );
  }
  runtime.maxScopeChainLength = length;
}
