/** `withShared`: run code in a shared context's scope and commit what it changed. */
import { registeredKeys, Snapshot, scope, set, snapshot } from '../../index.js';
import { checkId, DEFAULT_WRITER, intOption, invalid, optionsObject } from './check.js';
import { sameValue } from './equal.js';
import { threeWayMerge } from './merge.js';
import {
  type ConflictPolicy,
  type SharedConflict,
  SharedConflictError,
  settle,
} from './policies.js';
import type { SharedContextStore, SharedRecord } from './types.js';

/** Options of {@link withShared}. */
export interface WithSharedOptions {
  /** What to do with a key another writer changed differently meanwhile (default `'fail'`). */
  readonly onConflict?: ConflictPolicy;
  /** Compare-and-set attempts after the first, each on the newest version (default 10). */
  readonly retries?: number;
  /** Recorded as the new version's `updatedBy` (default `<hostname>:<pid>`). */
  readonly updatedBy?: string;
  /** Receives the version committed (not called when `fn` changed nothing). */
  readonly onCommit?: (record: SharedRecord) => void;
}

const POLICIES = new Set(['fail', 'last-write-wins', 'higher-version-wins', 'merge-all']);

/**
 * Runs `fn` in a new scope named `shared:<id>` holding the values stored for `id` (laid over the
 * caller's context); when `fn` succeeds, the keys it changed (set, updated or set to `undefined`)
 * are committed as the next version. When another writer committed meanwhile, both changes are
 * merged with {@link threeWayMerge}, conflicts go to `onConflict`, and the compare-and-set is
 * tried again (up to `retries` times). When `fn` throws, nothing is committed. Resolves to what
 * `fn` returned.
 *
 * @example
 * await withShared(store, 'session-42', () => {
 *   update(cart, (items) => [...items, 'book']);
 * }, { onConflict: 'merge-all' });
 */
export async function withShared<R>(
  store: SharedContextStore,
  id: string,
  fn: () => R | Promise<R>,
  options?: WithSharedOptions,
): Promise<Awaited<R>> {
  checkId(id, 'withShared');
  if (typeof fn !== 'function') throw invalid('withShared needs a function to run');
  const object = optionsObject<WithSharedOptions>(options, 'withShared');
  const policy = object.onConflict ?? 'fail';
  if (typeof policy !== 'function' && !POLICIES.has(policy)) {
    throw invalid(
      `withShared option onConflict must be 'fail', 'last-write-wins', 'higher-version-wins', 'merge-all' or a function (got ${String(policy)})`,
    );
  }
  const retries = intOption(object.retries, 10, 0, 'withShared option retries');
  const updatedBy = object.updatedBy ?? DEFAULT_WRITER;
  if (typeof updatedBy !== 'string') throw invalid('withShared option updatedBy must be a string');

  const loaded = await store.get(id);
  const [result, changes] = await scope(`shared:${id}`, async () => {
    if (loaded !== undefined)
      for (const [name, value] of loaded.entries.entries()) set(name, value);
    const start = snapshot();
    const value = await fn();
    return [value, changedKeys(start, snapshot())] as const;
  });
  if (changes.size === 0) return result;
  const record = await commitChanges(store, id, loaded, changes, policy, retries, updatedBy);
  if (record !== undefined) object.onCommit?.(record);
  return result;
}

/** The stored keys whose value differs between the two snapshots (`undefined`: unset). */
function changedKeys(start: Snapshot, end: Snapshot): Map<string, unknown> {
  const changes = new Map<string, unknown>();
  for (const key of registeredKeys()) {
    if (key.local) continue; // never stored
    const before = start.has(key.name) ? start.get(key.name) : undefined;
    const after = end.has(key.name) ? end.get(key.name) : undefined;
    if (!sameValue(before, after)) changes.set(key.name, after);
  }
  return changes;
}

/** The registered values of `entries` as key name → value. */
function valuesOf(entries: Snapshot | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = Object.create(null);
  if (entries !== undefined) for (const [name, value] of entries.entries()) values[name] = value;
  return values;
}

function applyChanges(entries: Snapshot, changes: ReadonlyMap<string, unknown>): Snapshot {
  let result = entries;
  for (const [name, value] of changes) result = result.with(name, value);
  return result;
}

/** Compare-and-set of `changes` on `loaded`, merging with each commit made meanwhile. */
async function commitChanges(
  store: SharedContextStore,
  id: string,
  loaded: SharedRecord | undefined,
  changes: ReadonlyMap<string, unknown>,
  policy: ConflictPolicy,
  retries: number,
  updatedBy: string,
): Promise<SharedRecord | undefined> {
  let base = loaded;
  let entries = applyChanges(loaded?.entries ?? Snapshot.empty(), changes);
  for (let attempt = 0; ; attempt++) {
    const result = await store.put({
      id,
      entries,
      expectedVersion: base?.version ?? 0,
      updatedBy,
    });
    if (result.ok) return result.record;
    const remote = result.current;
    if (attempt >= retries) {
      throw new SharedConflictError(
        [],
        `shared context '${id}': the compare-and-set lost to other writers ${retries + 1} times (now at version ${remote?.version ?? 0}); nothing was committed (raise option retries)`,
      );
    }
    const remoteValues = valuesOf(remote?.entries);
    const { merged, conflicts } = threeWayMerge(
      valuesOf(base?.entries),
      valuesOf(entries),
      remoteValues,
    );
    if (conflicts.length > 0) {
      const described: SharedConflict[] = conflicts.map((c) => ({
        ...c,
        id,
        baseVersion: base?.version ?? 0,
        remoteVersion: remote?.version ?? 0,
      }));
      for (const [key, value] of settle(described, policy)) {
        if (value === undefined) delete merged[key];
        else merged[key] = value;
      }
    }
    // On the remote record, so what it holds that this process cannot read is kept.
    const next = new Map<string, unknown>();
    for (const key of new Set([...Object.keys(merged), ...Object.keys(remoteValues)])) {
      const value = Object.hasOwn(merged, key) ? merged[key] : undefined;
      if (!sameValue(value, remoteValues[key])) next.set(key, value);
    }
    if (next.size === 0) return undefined; // the committed version already holds every change
    base = remote;
    entries = applyChanges(remote?.entries ?? Snapshot.empty(), next);
    // Writers that keep colliding back off a little, at random, so one of them gets through.
    if (attempt > 0)
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 20)),
      );
  }
}
