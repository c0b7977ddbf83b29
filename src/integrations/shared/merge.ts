/** The three-way merge of a shared context's entries. */
import { sameValue } from './equal.js';

/** Key name → value; an absent key (or `undefined`) means "not set". */
export type EntryValues = Readonly<Record<string, unknown>>;

/** A key both sides changed, differently (a change on one side and a delete on the other included). */
export interface MergeConflict {
  readonly key: string;
  /** The value both sides started from (`undefined`: unset). */
  readonly base: unknown;
  /** This side's value (`undefined`: deleted here). */
  readonly local: unknown;
  /** The other side's value (`undefined`: deleted there). */
  readonly remote: unknown;
}

/** What {@link threeWayMerge} returns. */
export interface MergeResult {
  /**
   * Every key with the change either side made; a key neither changed keeps its base value. A
   * conflicting key holds the remote value until a policy decides (see `conflicts`).
   */
  readonly merged: Record<string, unknown>;
  /** The keys changed differently on both sides, in key order of base, local, then remote. */
  readonly conflicts: MergeConflict[];
}

/**
 * Merges two changes of the same base: every change only one side made is taken; a key changed
 * the same way on both sides is taken once; a key changed differently on both sides - including
 * changed on one side and deleted on the other - is a conflict, never silently decided. Values
 * are compared structurally (arrays, plain objects, Map, Set, Date, bytes). O(number of keys).
 *
 * @example
 * threeWayMerge({ a: 1, b: 1 }, { a: 2, b: 1 }, { a: 1, b: 3 });
 * // { merged: { a: 2, b: 3 }, conflicts: [] }
 */
export function threeWayMerge(
  base: EntryValues,
  local: EntryValues,
  remote: EntryValues,
): MergeResult {
  const merged: Record<string, unknown> = Object.create(null);
  const conflicts: MergeConflict[] = [];
  const seen = new Set<string>();
  for (const side of [base, local, remote]) {
    for (const key of Object.keys(side)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const b = own(base, key);
      const l = own(local, key);
      const r = own(remote, key);
      let value: unknown;
      if (sameValue(b, l)) value = r;
      else if (sameValue(b, r) || sameValue(l, r)) value = l;
      else {
        conflicts.push({ key, base: b, local: l, remote: r });
        value = r;
      }
      if (value !== undefined) merged[key] = value;
    }
  }
  return { merged, conflicts };
}

function own(values: EntryValues, key: string): unknown {
  return Object.hasOwn(values, key) ? values[key] : undefined;
}
