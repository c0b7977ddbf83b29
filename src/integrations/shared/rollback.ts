/** `rollback`, the same for every store: a new version holding an old one's entries. */
import { DContextError } from '../../index.js';
import { invalid } from './check.js';
import type { SharedContextStore, SharedRecord } from './types.js';

/**
 * The `DECODE_FAILED` of a store whose compare-and-set refused `expectedVersion` while reporting
 * that very version as current: its version and its record disagree, so no retry can succeed.
 */
export function inconsistent(id: string, expectedVersion: number): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `shared context '${id}' has a corrupt stored record: the store refused version ${expectedVersion} as not current, yet its record says it is; restore it with rollback() or delete it`,
  );
}

/**
 * Commits the entries of `id`'s kept `version` as its next version; see `SharedContextStore.rollback`.
 * `currentVersion`: the version the store compares against, read without decoding the current
 * record (so a corrupt current record can be rolled back); default: from `store.get`.
 */
export async function rollbackOn(
  store: SharedContextStore,
  id: string,
  version: number,
  updatedBy: string | undefined,
  currentVersion: () => Promise<number> = async () => (await store.get(id))?.version ?? 0,
): Promise<SharedRecord> {
  const old = (await store.history(id)).find((record) => record.version === version);
  if (old === undefined) {
    throw invalid(
      `cannot roll back shared context '${id}' to version ${version}: it is not in its history (history() lists the versions kept)`,
    );
  }
  // A compare-and-set like any write: if another writer commits in between, try on its version.
  for (;;) {
    const expectedVersion = await currentVersion();
    const result = await store.put({
      id,
      entries: old.entries,
      expectedVersion,
      ...(updatedBy === undefined ? {} : { updatedBy }),
    });
    if (result.ok) return result.record;
    if ((result.current?.version ?? 0) === expectedVersion) throw inconsistent(id, expectedVersion);
  }
}
