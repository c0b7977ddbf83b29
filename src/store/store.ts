import type { ContextKey } from '../registry/context-key.js';
import { currentRegistry, findDefinition, requireDefinition } from '../registry/registry.js';
import { SLOT } from '../registry/types.js';
import { type Frame, readValue, writeSlot } from './frame.js';
import { chainToArray } from './scope-chain.js';
import { type KeyRef, Snapshot } from './snapshot.js';

/**
 * The value of `key` in `values` (its default when unset): the read behind every `get`. Small on
 * purpose, so V8 inlines it into callers. A key object's `slot` is set only while it is
 * registered in the current registry (`NO_SLOT` otherwise, past the end of every array), and no
 * slot ever holds an undecoded entry (see frame.ts), so a value found there is the answer. Names,
 * unset keys (defaults), deferred entries and errors take the full path.
 */
export function readKey(values: unknown[], key: KeyRef): unknown {
  if (typeof key !== 'string') {
    const value = values[key[SLOT]];
    if (value !== undefined) return value;
  }
  return readValue(values, requireDefinition(key));
}

/**
 * The verbs both stores share over the one frame model. A store only decides where its current
 * frame lives (an AsyncLocalStorage, or a plain per-thread stack).
 */
export abstract class ContextStore {
  /** @internal the innermost frame of this store (the read-only root when no scope is open). */
  abstract currentFrame(): Frame;

  /** The value of `key` (its default when unset). Throws `NOT_REGISTERED` for unknown names. */
  get<T>(key: ContextKey<T>): T | undefined;
  get(key: KeyRef): unknown;
  get(key: KeyRef): unknown {
    return readKey(this.currentFrame().values, key);
  }

  /** Like `get`, but an unknown name returns `undefined` instead of throwing. */
  tryGet<T>(key: ContextKey<T>): T | undefined;
  tryGet(key: KeyRef): unknown;
  tryGet(key: KeyRef): unknown {
    const definition = findDefinition(key);
    return definition === undefined ? undefined : readValue(this.currentFrame().values, definition);
  }

  /**
   * Sets `key` in the current scope; it vanishes when the scope ends. Throws `NO_ACTIVE_SCOPE`
   * outside a scope, `TYPE_MISMATCH` when the key's `validate` rejects the value.
   */
  set<T>(key: ContextKey<T>, value: T): void;
  set(key: KeyRef, value: unknown): void;
  set(key: KeyRef, value: unknown): void {
    writeSlot(this.currentFrame(), requireDefinition(key), value);
  }

  /** Sets `key` to `fn(current value)`. */
  update<T>(key: ContextKey<T>, fn: (current: T | undefined) => T): void;
  update(key: KeyRef, fn: (current: unknown) => unknown): void;
  update(key: KeyRef, fn: (current: never) => unknown): void {
    const definition = requireDefinition(key);
    const frame = this.currentFrame();
    writeSlot(frame, definition, fn(readValue(frame.values, definition) as never));
  }

  /** Unsets `key` in the current scope (reads fall back to the default). */
  delete(key: KeyRef): void {
    writeSlot(this.currentFrame(), requireDefinition(key), undefined);
  }

  /** The names of the enclosing named scopes, outermost first. */
  scopeChain(): string[] {
    currentRegistry();
    return chainToArray(this.currentFrame().chain);
  }

  /** An immutable capture of the current values and scope chain, in O(1). */
  snapshot(): Snapshot {
    currentRegistry();
    return Snapshot.capture(this.currentFrame());
  }
}
