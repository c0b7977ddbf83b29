/** `rollback`, the same for every store: a new version holding an old one's entries. */
import { invalid } from './check.js';
import type { SharedContextStore, SharedRecord } from './types.js';

/** Commits the entries of `id`'s kept `version` as its next version; see `SharedContextStore.rollback`. */
export async function rollbackOn(
  store: SharedContextStore,
  id: string,
  version: number,
  updatedBy: string | undefined,
): Promise<SharedRecord> {
  const old = (await store.history(id)).find((record) => record.version === version);
  if (old === undefined) {
    throw invalid(
      `cannot roll back shared context '${id}' to version ${version}: it is not in its history (history() lists the versions kept)`,
    );
  }
  // A compare-and-set like any write: if another writer commits in between, try on its version.
  for (;;) {
    const current = await store.get(id);
    const result = await store.put({
      id,
      entries: old.entries,
      expectedVersion: current?.version ?? 0,
      ...(updatedBy === undefined ? {} : { updatedBy }),
    });
    if (result.ok) return result.record;
  }
}
