import { shared } from '../internal/runtime.js';
import type { KeyRef, ValueRead, ValueWritten } from '../registry/context-key.js';
import { currentRegistry, requireDefinition } from '../registry/registry.js';
import {
  type Frame,
  fitToRegistry,
  type OpaqueEntry,
  putEntry,
  readSlot,
  readValue,
  validateValue,
} from './frame.js';
import { type ChainNode, chainToArray } from './scope-chain.js';

const EMPTY: unknown[] = [];

/**
 * An immutable capture of a context: its values and its scope chain. Taken in O(1) (the values
 * are shared with the scope they came from, which copies on its next write), and re-attached
 * with `withContext` / `attach` to run code in that context - in another store, a timer, a
 * worker, or another process once serialized.
 *
 * A snapshot is also the explicit form of context, passed as an argument:
 * @example
 * const snap = Snapshot.empty().with(requestId, 'req-1');
 * snap.get(requestId); // 'req-1'
 */
class SnapshotImpl {
  /** @internal slot values; never mutated (deferred entries are memoized in place). */
  readonly values: unknown[];
  /** @internal */
  readonly chain: ChainNode | null;
  /** @internal entries from the wire this process cannot decode, forwarded unchanged. */
  readonly opaque: readonly OpaqueEntry[] | null;

  /** @internal use `snapshot()`, `Snapshot.empty()` or `deserialize()`. */
  constructor(values: unknown[], chain: ChainNode | null, opaque: readonly OpaqueEntry[] | null) {
    this.values = values;
    this.chain = chain;
    this.opaque = opaque;
  }

  /** A snapshot with no values and an empty scope chain. */
  static empty(): Snapshot {
    return new Snapshot(EMPTY, null, null);
  }

  /** @internal captures `frame`; O(1): the frame copies its values on its next write. */
  static capture(frame: Frame): Snapshot {
    frame.owned = false;
    return new Snapshot(frame.values, frame.chain, frame.opaque);
  }

  /** The value of `key` (its default when unset). Throws `NOT_REGISTERED` for unknown names. */
  get<K extends KeyRef>(key: K): ValueRead<K> {
    return readValue(this.values, requireDefinition(key)) as ValueRead<K>;
  }

  /** Whether `key` has a value set (defaults do not count). */
  has(key: KeyRef): boolean {
    return readSlot(this.values, requireDefinition(key).index) !== undefined;
  }

  /** A new snapshot with `key` set to `value` (`undefined` removes it); this one is unchanged. */
  with<K extends KeyRef>(key: K, value: ValueWritten<K> | undefined): Snapshot {
    const definition = requireDefinition(key);
    validateValue(definition, value);
    const values = fitToRegistry(this.values).slice();
    putEntry(values, definition.index, value);
    return new Snapshot(values, this.chain, this.opaque);
  }

  /** The named scopes, outermost first. */
  get scopeChain(): string[] {
    return chainToArray(this.chain);
  }

  /** `[name, value]` for every key with a value set, in registration order. */
  *entries(): IterableIterator<[string, unknown]> {
    const definitions = currentRegistry().definitions;
    for (let i = 0; i < Math.min(definitions.length, this.values.length); i++) {
      const value = readSlot(this.values, i);
      if (value !== undefined) yield [definitions[i]!.name, value];
    }
  }
}

export const Snapshot: typeof SnapshotImpl = shared('Snapshot', SnapshotImpl);
export type Snapshot = SnapshotImpl;
