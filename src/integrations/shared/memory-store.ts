/** The embedded shared-context store: one process, no server. */
import { checkId, checkWrite, DEFAULT_WRITER, intOption, optionsObject } from './check.js';
import { encodeCommit } from './record-codec.js';
import { rollbackOn } from './rollback.js';
import type {
  CommitHandlers,
  CommitResult,
  CommitSubscription,
  SharedContextStore,
  SharedRecord,
  SharedWrite,
} from './types.js';

/** Options of {@link MemoryContextStore}. */
export interface MemoryContextStoreOptions {
  /** Versions kept per context for `history` and `rollback` (default 10, at least 1). */
  readonly historySize?: number;
}

interface Slot {
  /** Newest first; `[0]` is the current version. */
  history: SharedRecord[];
}

/**
 * Shared contexts in this process's memory: the default store, for tests, examples and
 * single-process apps. Records are stored through the wire format like in Redis (so the same
 * values come back, local-only keys are not kept, and corrupt or oversized values fail the same
 * way); compare-and-set is atomic because JavaScript runs one commit at a time.
 *
 * @example
 * const store = new MemoryContextStore();
 * await withShared(store, 'session-1', () => set(cart, ['book']));
 */
export class MemoryContextStore implements SharedContextStore {
  readonly #historySize: number;
  readonly #slots = new Map<string, Slot>();
  readonly #listeners = new Set<CommitHandlers>();

  constructor(options?: MemoryContextStoreOptions) {
    const object = optionsObject<MemoryContextStoreOptions>(options, 'MemoryContextStore');
    this.#historySize = intOption(
      object.historySize,
      10,
      1,
      'MemoryContextStore option historySize',
    );
  }

  async get(id: string): Promise<SharedRecord | undefined> {
    checkId(id, 'MemoryContextStore.get');
    return this.#slots.get(id)?.history[0];
  }

  async getMany(ids: readonly string[]): Promise<(SharedRecord | undefined)[]> {
    return ids.map((id) => {
      checkId(id, 'MemoryContextStore.getMany');
      return this.#slots.get(id)?.history[0];
    });
  }

  async put(write: SharedWrite): Promise<CommitResult> {
    const checked = checkWrite(write, 'MemoryContextStore.put');
    return this.#commit(checked, this.#encode(checked));
  }

  async putMany(writes: readonly SharedWrite[]): Promise<CommitResult[]> {
    // Checked (and encoded) first, so one bad write commits none of the batch.
    const checked = writes.map((write) => checkWrite(write, 'MemoryContextStore.putMany'));
    const prepared = checked.map((write) => this.#encode(write));
    return checked.map((write, i) => this.#commit(write, prepared[i]!));
  }

  /** The record `write` commits if its compare-and-set holds (throws if it cannot be stored). */
  #encode(write: SharedWrite): SharedRecord {
    // Through the bytes, so what is kept is exactly what a Redis store would return.
    return encodeCommit(
      write.id,
      write.entries,
      write.expectedVersion + 1,
      write.updatedBy ?? DEFAULT_WRITER,
    ).record;
  }

  #commit(write: SharedWrite, record: SharedRecord): CommitResult {
    const slot = this.#slots.get(write.id);
    const current = slot?.history[0];
    if ((current?.version ?? 0) !== write.expectedVersion) return { ok: false, current };
    if (slot === undefined) this.#slots.set(write.id, { history: [record] });
    else {
      slot.history.unshift(record);
      if (slot.history.length > this.#historySize) slot.history.length = this.#historySize;
    }
    for (const handlers of this.#listeners)
      queueMicrotask(() => handlers.onCommit(record.id, record.version));
    return { ok: true, record };
  }

  async history(id: string): Promise<SharedRecord[]> {
    checkId(id, 'MemoryContextStore.history');
    return [...(this.#slots.get(id)?.history ?? [])];
  }

  rollback(
    id: string,
    version: number,
    options?: { readonly updatedBy?: string },
  ): Promise<SharedRecord> {
    checkId(id, 'MemoryContextStore.rollback');
    return rollbackOn(this, id, version, options?.updatedBy);
  }

  async delete(id: string): Promise<void> {
    checkId(id, 'MemoryContextStore.delete');
    if (this.#slots.delete(id)) {
      for (const handlers of this.#listeners) queueMicrotask(() => handlers.onCommit(id, 0));
    }
  }

  async subscribe(handlers: CommitHandlers): Promise<CommitSubscription> {
    this.#listeners.add(handlers);
    return { close: async () => void this.#listeners.delete(handlers) };
  }
}
