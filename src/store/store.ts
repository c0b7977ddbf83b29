import type { KeyRef, ValueRead, ValueWritten } from '../registry/context-key.js';
import {
  currentRegistry,
  findDefinitionIfInitialized,
  requireDefinition,
} from '../registry/registry.js';
import { readKey, readValue, writeSlot } from './frame.js';
import type { Frame } from './frame-shape.js';
import { requireFunction } from './scope-arguments.js';
import { chainToArray } from './scope-chain.js';
import { captureFrame, type Snapshot } from './snapshot.js';

// Moved to frame.ts (the hot path in one module); re-exported for code that imports it from here.

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
    requireFunction(fn, 'update(key, fn)');
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

  /** Runs `fn` with the snapshot's values and scope chain, as a new scope of this store. */
  abstract withContext<R>(snapshot: Snapshot, fn: () => R): R;

  /**
   * A function that runs `fn` inside the context captured now, each call in a fresh scope (writes
   * made by one call do not reach the next). This is how context reaches callbacks.
   */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    requireFunction(fn, 'bind(fn)');
    const captured = this.snapshot();
    return (...args: A): R => this.withContext(captured, () => fn(...args));
  }

  /** An immutable capture of the current values and scope chain, in O(1). */
  snapshot(): Snapshot {
    currentRegistry();
    return captureFrame(this.currentFrame());
  }
}
