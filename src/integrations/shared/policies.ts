/** What happens to a key both writers changed differently: the `onConflict` policies. */
import { inspect } from 'node:util';
import { DContextError } from '../../index.js';
import { isPlainObject, sameValue } from './equal.js';
import { type MergeConflict, threeWayMerge } from './merge.js';

/** A conflict as a policy sees it: the key's three values, and which versions met. */
export interface SharedConflict extends MergeConflict {
  /** The shared context's id. */
  readonly id: string;
  /** The version this writer loaded (the merge base). */
  readonly baseVersion: number;
  /** The version another writer committed meanwhile. */
  readonly remoteVersion: number;
}

/**
 * How `withShared` settles a key changed differently by this writer and by a commit made since
 * it loaded (see docs/shared-context.md):
 * - `'fail'` (default): nothing is committed; throws {@link SharedConflictError} (`CONFLICT`).
 * - `'last-write-wins'`: this writer's value (it commits last).
 * - `'higher-version-wins'`: the committed value (its version is higher than the one this change
 *   was based on): the first writer wins, and this writer's other changes are still committed.
 * - `'merge-all'`: both changes: numbers add both deltas, arrays and Sets keep both sides'
 *   additions and drop both sides' removals, plain objects merge field by field (recursively);
 *   a change wins over a delete; other values take this writer's.
 * - a function `(conflict) => value`: its return value (`undefined` deletes the key).
 */
export type ConflictPolicy =
  | 'fail'
  | 'last-write-wins'
  | 'higher-version-wins'
  | 'merge-all'
  | ((conflict: SharedConflict) => unknown);

/** The `CONFLICT` error of `onConflict: 'fail'`: `conflicts` lists each key and its values. */
export class SharedConflictError extends DContextError {
  /** Each conflicting key with its base, local and remote values. */
  readonly conflicts: readonly SharedConflict[];

  /** `message` replaces the default list of conflicts (used when retries run out). */
  constructor(conflicts: readonly SharedConflict[], message?: string) {
    const first = conflicts[0];
    const list = conflicts
      .map(
        (c) =>
          `'${c.key}' (base ${show(c.base)}, local ${show(c.local)}, remote ${show(c.remote)})`,
      )
      .join(', ');
    super(
      'CONFLICT',
      message ??
        `shared context '${first?.id}': version ${first?.remoteVersion} was committed since version ${first?.baseVersion} was loaded, and it changed ${list} differently; nothing was committed (choose another onConflict policy, or retry)`,
      first?.key,
    );
    this.conflicts = conflicts;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'unset';
  const text = inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The value each conflicting key gets under `policy`; throws `CONFLICT` for `'fail'`. */
export function settle(
  conflicts: readonly SharedConflict[],
  policy: ConflictPolicy,
): Map<string, unknown> {
  if (policy === 'fail') throw new SharedConflictError(conflicts);
  const values = new Map<string, unknown>();
  for (const conflict of conflicts) {
    let value: unknown;
    if (policy === 'last-write-wins') value = conflict.local;
    else if (policy === 'higher-version-wins') value = conflict.remote;
    else if (policy === 'merge-all')
      value = mergeAll(conflict.base, conflict.local, conflict.remote);
    else value = policy(conflict);
    values.set(conflict.key, value);
  }
  return values;
}

/** Both changes of one value (see `'merge-all'`). */
export function mergeAll(base: unknown, local: unknown, remote: unknown): unknown {
  if (local === undefined) return remote;
  if (remote === undefined) return local;
  if (typeof local === 'number' && typeof remote === 'number') {
    const from = typeof base === 'number' ? base : 0;
    return remote + (local - from);
  }
  if (Array.isArray(local) && Array.isArray(remote)) {
    return mergeLists(Array.isArray(base) ? base : [], local, remote);
  }
  if (local instanceof Set && remote instanceof Set) {
    return new Set(mergeLists(base instanceof Set ? [...base] : [], [...local], [...remote]));
  }
  if (isPlainObject(local) && isPlainObject(remote)) {
    const from = isPlainObject(base) ? base : {};
    const { merged, conflicts } = threeWayMerge(from, local, remote);
    for (const c of conflicts) {
      const value = mergeAll(c.base, c.local, c.remote);
      if (value === undefined) delete merged[c.key];
      else merged[c.key] = value;
    }
    return { ...merged };
  }
  return local;
}

/** Remote's items without those local removed, then local's additions remote lacks. */
function mergeLists(
  base: readonly unknown[],
  local: readonly unknown[],
  remote: readonly unknown[],
): unknown[] {
  const has = (list: readonly unknown[], item: unknown): boolean =>
    list.some((x) => sameValue(x, item));
  const removedHere = base.filter((item) => !has(local, item));
  const result = remote.filter((item) => !has(removedHere, item));
  for (const item of local) if (!has(base, item) && !has(result, item)) result.push(item);
  return result;
}
