import { runtime } from '../internal/runtime.js';
import type { KeyRef, ValueRead, ValueWritten } from '../registry/context-key.js';
import { currentRegistry, requireDefinition } from '../registry/registry.js';
import { fitToRegistry, putEntry } from './deferred-entries.js';
import { frameFrom, readSlot, readValue } from './frame.js';
import type { Frame, OpaqueEntry } from './frame-shape.js';
import { type ChainNode, chainToArray } from './scope-chain.js';
import type { VariableNode } from './variable-map.js';
import { validateValue } from './write-checks.js';

/**
 * Where a snapshot keeps its state: symbol-keyed, so no user code reaches it by accident (the
 * values array is shared with the scope it was captured from, until that scope's next write).
 * `Symbol.for`, so the ESM and the CommonJS build read each other's snapshots.
 * @internal
 */
export const VALUES: unique symbol = Symbol.for('dcontext.snapshot.values');
/** @internal see {@link VALUES} */
export const CHAIN: unique symbol = Symbol.for('dcontext.snapshot.chain');
/** @internal see {@link VALUES} */
export const OPAQUE: unique symbol = Symbol.for('dcontext.snapshot.opaque');
/** @internal see {@link VALUES}; the frame's `foreign` context, never serialized. */
export const FOREIGN: unique symbol = Symbol.for('dcontext.snapshot.foreign');
/** @internal see {@link VALUES}; `AsyncContext.Variable` values, in-process only, never serialized. */
export const VARIABLES: unique symbol = Symbol.for('dcontext.snapshot.variables');
const BRAND = Symbol.for('dcontext.snapshot');

/**
 * An immutable capture of a context: its values and its scope chain. Taken in O(1) (the values
 * are shared with the scope they came from, which copies on its next write), and re-attached
 * with `withContext` / `attach` to run code in that context - in another store, a timer, a
 * worker, or another process once serialized. Nothing a snapshot exposes can change it, or the
 * scope it came from.
 *
 * A snapshot is also the explicit form of context, passed as an argument:
 * @example
 * const snap = Snapshot.empty().with(requestId, 'req-1');
 * snap.get(requestId); // 'req-1'
 */
export class Snapshot {
  /** @internal slot values; never mutated (deferred entries are memoized in place). */
  readonly [VALUES]: unknown[];
  /** @internal */
  readonly [CHAIN]: ChainNode | null;
  /** @internal entries from the wire this process cannot decode, forwarded unchanged. */
  readonly [OPAQUE]: readonly OpaqueEntry[] | null;
  /**
   * @internal the captured scope's context of another system (see `Frame.foreign`): null when it
   * had none, undefined when none was captured (a snapshot from the wire, `Snapshot.empty()`).
   */
  readonly [FOREIGN]: unknown;
  /** @internal `AsyncContext.Variable` values (dcontext/async-context); null when none. */
  readonly [VARIABLES]: VariableNode | null;

  /** @internal use `snapshot()`, `Snapshot.empty()` or `deserialize()`. */
  constructor(
    values: unknown[],
    chain: ChainNode | null,
    opaque: readonly OpaqueEntry[] | null,
    foreign: unknown = undefined,
    variables: VariableNode | null = null,
  ) {
    this[VALUES] = values;
    this[CHAIN] = chain;
    this[OPAQUE] = opaque;
    this[FOREIGN] = foreign;
    this[VARIABLES] = variables;
  }

  /** A snapshot with no values and an empty scope chain. */
  static empty(): Snapshot {
    // A fresh array each time: nothing one caller does to one can reach another's.
    return new Snapshot([], null, null);
  }

  /** `instanceof` holds for snapshots of either build of dcontext (ESM and CommonJS). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true
    );
  }

  /** The value of `key` (its default when unset). Throws `NOT_REGISTERED` for unknown names. */
  get<K extends KeyRef>(key: K): ValueRead<K> {
    return readValue(this[VALUES], requireDefinition(key)) as ValueRead<K>;
  }

  /** Whether `key` has a value set (defaults do not count). */
  has(key: KeyRef): boolean {
    return readSlot(this[VALUES], requireDefinition(key).index) !== undefined;
  }

  /** A new snapshot with `key` set to `value` (`undefined` removes it); this one is unchanged. */
  with<K extends KeyRef>(key: K, value: ValueWritten<K> | undefined): Snapshot {
    const definition = requireDefinition(key);
    validateValue(definition, value);
    const values = fitToRegistry(this[VALUES]).slice();
    putEntry(values, definition.index, value);
    return new Snapshot(values, this[CHAIN], this[OPAQUE], this[FOREIGN], this[VARIABLES]);
  }

  /** The named scopes, outermost first. */
  get scopeChain(): string[] {
    return chainToArray(this[CHAIN]);
  }

  /** `[name, value]` for every key with a value set, in registration order. */
  *entries(): IterableIterator<[string, unknown]> {
    const definitions = currentRegistry().definitions;
    const values = this[VALUES];
    for (let i = 0; i < Math.min(definitions.length, values.length); i++) {
      const value = readSlot(values, i);
      if (value !== undefined) yield [definitions[i]!.name, value];
    }
  }

  toString(): string {
    return `Snapshot(${this.scopeChain.join('>')})`;
  }

  /** What `console.log(snapshot)` shows: the scope chain and the values set, by key name. */
  [Symbol.for('nodejs.util.inspect.custom')](): unknown {
    const values: Record<string, unknown> = Object.create(null);
    try {
      for (const [name, value] of this.entries()) values[name] = value;
    } catch {
      // Before initialize() there are no names to show.
    }
    return { scopeChain: this.scopeChain, values };
  }
}
Object.defineProperty(Snapshot.prototype, BRAND, { value: true });

/** Captures `frame` in O(1): the frame copies its values on its next write. */
export function captureFrame(frame: Frame): Snapshot {
  frame.owned = false;
  return new Snapshot(frame.values, frame.chain, frame.opaque, frame.foreign, frame.variables);
}

/**
 * A new frame holding `snapshot`'s values and scope chain (re-entering it), and the foreign
 * context it captured; a snapshot that captured none (one from the wire) keeps the active async
 * scope's, so entering a received context inside an OpenTelemetry span stays in that span.
 */
export function frameOfSnapshot(snapshot: Snapshot): Frame {
  const captured = snapshot[FOREIGN];
  return frameOfSnapshotWith(
    snapshot,
    captured !== undefined ? captured : (runtime.als.getStore() ?? runtime.root).foreign,
  );
}

/** A new frame holding `snapshot`'s values, chain and variables, carrying `foreign`. */
export function frameOfSnapshotWith(snapshot: Snapshot, foreign: unknown): Frame {
  return frameFrom(
    snapshot[VALUES],
    snapshot[CHAIN],
    snapshot[OPAQUE],
    foreign,
    snapshot[VARIABLES],
  );
}
