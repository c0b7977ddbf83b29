/** The shared-context model: a versioned record, and the interface every store implements. */
import type { Snapshot } from '../../index.js';

/**
 * One committed version of a shared context. Immutable: a change is a new record with the next
 * version. `entries` holds registered keys as a `Snapshot` (read with `entries.get(key)`); they
 * are stored in the wire format, so codecs, key versions and migrations, `validate`, local-only
 * rules (local-only keys are never stored) and the size limit apply as they do on the wire, and
 * entries of keys this process does not know are kept and written back unchanged.
 */
export interface SharedRecord {
  /** The context's id (a session id, an order id). */
  readonly id: string;
  /** The stored values. */
  readonly entries: Snapshot;
  /** 1 for the first commit, then +1 per commit. */
  readonly version: number;
  /** When this version was committed, in ms since the epoch (the writer's clock). */
  readonly updatedAt: number;
  /** Who committed it (option `updatedBy`; default `<hostname>:<pid>`). */
  readonly updatedBy: string;
}

/** A change to commit: the new entries of `id`, based on version `expectedVersion`. */
export interface SharedWrite {
  readonly id: string;
  readonly entries: Snapshot;
  /** The version this change was based on; 0 when the context does not exist yet. */
  readonly expectedVersion: number;
  /** Recorded as the new version's `updatedBy` (default `<hostname>:<pid>`). */
  readonly updatedBy?: string;
}

/**
 * What a compare-and-set returned: the committed record, or (`ok: false`) the record that is
 * current instead (`undefined` when the context does not exist), so the caller can merge.
 */
export type CommitResult =
  | { readonly ok: true; readonly record: SharedRecord }
  | { readonly ok: false; readonly current: SharedRecord | undefined };

/** Called with each commit a store (or another process, through it) reports; version 0: deleted. */
export type CommitListener = (id: string, version: number) => void;

/** A subscription to a store's commit announcements (see `SharedContextStore.subscribe`). */
export interface CommitSubscription {
  /** Stops listening. */
  close(): Promise<void>;
}

/** Callbacks of {@link SharedContextStore.subscribe}. */
export interface CommitHandlers {
  /** A commit of `id` at `version`, by any process. */
  readonly onCommit: CommitListener;
  /**
   * Commits may have been missed from now until `onResume` (the connection to the server was
   * lost): a cache must stop trusting what it holds.
   */
  readonly onGap?: () => void;
  /** Listening again after a gap. */
  readonly onResume?: () => void;
}

/**
 * Where shared contexts live: `MemoryContextStore` (in-process), `RedisContextStore`, or a
 * `ContextCache` in front of either. Every write is a compare-and-set on the version.
 */
export interface SharedContextStore {
  /** The current record of `id`, or `undefined`. Throws `DECODE_FAILED` on a corrupt record. */
  get(id: string): Promise<SharedRecord | undefined>;
  /** `get` for many ids in one round trip (pipelined), in the order given. */
  getMany(ids: readonly string[]): Promise<(SharedRecord | undefined)[]>;
  /**
   * Commits `write.entries` as version `expectedVersion + 1` when the current version is
   * `expectedVersion` (atomically); otherwise commits nothing and returns the current record.
   */
  put(write: SharedWrite): Promise<CommitResult>;
  /** `put` for many writes in one round trip (pipelined); each is its own compare-and-set. */
  putMany(writes: readonly SharedWrite[]): Promise<CommitResult[]>;
  /** The last versions kept of `id` (option `historySize`, default 10), newest first. */
  history(id: string): Promise<SharedRecord[]>;
  /**
   * Commits a new version whose entries equal those of `version` (which must still be in the
   * history); returns it. Throws `INVALID_ARGUMENT` when that version is no longer kept.
   */
  rollback(
    id: string,
    version: number,
    options?: { readonly updatedBy?: string },
  ): Promise<SharedRecord>;
  /** Removes `id` and its history. */
  delete(id: string): Promise<void>;
  /** Reports commits as they happen, from every process when the store is shared (Redis). */
  subscribe?(handlers: CommitHandlers): Promise<CommitSubscription>;
}
