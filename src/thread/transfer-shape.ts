/**
 * The shape of a context crossing into another thread (see transfer.ts for how it is made and
 * read), apart from the code that makes and reads it: adopting a spawner's context needs only
 * this, not the delta protocol.
 */

/** Local-only values, as `[key name, value]` pairs. */
export type LocalEntries = readonly (readonly [string, unknown])[];

/** A context ready for `postMessage` (or any other structured-clone channel). */
export interface ContextTransfer {
  /**
   * The wire format's string form: non-local values, scope chain, opaque entries. With a
   * `delta`, the context it was computed against (the base).
   */
  readonly wire: string;
  /**
   * When set, this context differs from `wire`'s by: `[chain, changes, ...plain]`, with `chain`
   * its scope chain names (null: the same as `wire`'s), `changes` the wire string form of the
   * changed entries that do not go as plain data (or null), and `plain` flat
   * `[name, version, value]` triples (see `decodeDelta`).
   */
  readonly delta?: readonly unknown[] | null;
  /** Local-only values by key name, or null when none is set. */
  readonly local: LocalEntries | null;
}

/** Whether `value` has the shape of a {@link ContextTransfer} (from another thread: untrusted). */
export function isTransfer(value: unknown): value is ContextTransfer {
  if (typeof value !== 'object' || value === null) return false;
  const { wire, delta, local } = value as { wire?: unknown; delta?: unknown; local?: unknown };
  return (
    typeof wire === 'string' &&
    (delta === undefined || delta === null || (Array.isArray(delta) && delta.length >= 2)) &&
    (local === null || Array.isArray(local))
  );
}
