import type { KeyRef, ValueRead, ValueWritten } from '../registry/context-key.js';
import {
  currentRegistry,
  findDefinitionIfInitialized,
  requireDefinition,
} from '../registry/registry.js';
import { SLOT } from '../registry/types.js';
import { type Frame, readValue, writeSlot } from './frame.js';
import { chainToArray } from './scope-chain.js';
import { Snapshot } from './snapshot.js';

/**
 * The value of `key` in `values` (its default when unset): the read behind every `get`. Small on
 * purpose, so V8 inlines it into callers. A key object's `slot` is set only while it is
 * registered in the current registry (`NO_SLOT` otherwise, past the end of every array), and no
 * slot ever holds an undecoded entry (see frame.ts), so a value found there is the answer. Names,
 * unset keys (defaults), deferred entries and errors take the full path.
 */
export function readKey(values: unknown[], key: KeyRef): unknown {
  if (typeof key !== 'string') {
    // `?.`: a null or undefined key takes the full path, which answers INVALID_ARGUMENT.
    const value = values[key?.[SLOT]];
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
  get<K extends KeyRef>(key: K): ValueRead<K> {
    return readKey(this.currentFrame().values, key) as ValueRead<K>;
  }

  /**
   * Like `get`, but `undefined` instead of an error for an unknown name or before `initialize`:
   * a read for code that must never throw (a logger's mixin). A non-key is still
   * `INVALID_ARGUMENT`.
   */
  tryGet<K extends KeyRef>(key: K): ValueRead<K> | undefined {
    const definition = findDefinitionIfInitialized(key);
    return (
      definition === undefined ? undefined : readValue(this.currentFrame().values, definition)
    ) as ValueRead<K> | undefined;
  }

  /**
   * Sets `key` in the current scope; it vanishes when the scope ends. Throws `NO_ACTIVE_SCOPE`
   * outside a scope, `TYPE_MISMATCH` when the key's `validate` rejects the value.
   */
  set<K extends KeyRef>(key: K, value: ValueWritten<K> | undefined): void {
    writeSlot(this.currentFrame(), requireDefinition(key), value);
  }

  /** Sets `key` to `fn(current value)`. */
  update<K extends KeyRef>(key: K, fn: (current: ValueRead<K>) => ValueWritten<K>): void {
    const definition = requireDefinition(key);
    const frame = this.currentFrame();
    writeSlot(frame, definition, fn(readValue(frame.values, definition) as ValueRead<K>));
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
