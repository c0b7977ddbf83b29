/** `ContextCache`: a bounded in-process tier in front of a shared-context store. */
import { DContextError, Snapshot } from '../../index.js';
import {
  type ContextCacheOptions,
  type LoadedContext,
  resolveCacheOptions,
} from './cache-options.js';
import { checkId, checkWrite, DEFAULT_WRITER, describe, invalid } from './check.js';
import { Lru } from './lru.js';
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
import { type WriteBehindFailure, WriteBehindQueue } from './write-behind.js';

/** A record in the tier, and what `get` returns for it. */
interface Held {
  readonly record: SharedRecord;
  readonly resolved: Promise<SharedRecord>;
}

/**
 * A store with a bounded LRU tier in this process in front of another store; it is a store
 * itself, so it goes wherever one goes (`withShared(cache, id, fn)`). Concurrent misses for one
 * id make one store read (single-flight). When the store announces commits (Redis, memory), a
 * commit by any process evicts older copies here, so a cache never serves a version older than
 * one it has seen committed; see docs/shared-context.md for the stale window.
 *
 * @example
 * const cache = new ContextCache(new RedisContextStore({ redis }), { strategy: 'write-through', ttl: 10_000 });
 * await withShared(cache, 'session-1', () => set(theme, 'dark'));
 */
export class ContextCache implements SharedContextStore {
  readonly #store: SharedContextStore;
  /** Each record with a promise already resolved to it: a hit allocates nothing. */
  readonly #tier: Lru<Held>;
  readonly #maxEntries: number;
  readonly #loader: ContextCacheOptions['loader'];
  readonly #onError: (error: DContextError, failure?: WriteBehindFailure) => void;
  readonly #inflight = new Map<string, Promise<SharedRecord | undefined>>();
  /** Highest version seen committed, per id cached or being loaded. */
  readonly #seen = new Map<string, number>();
  /** Ids being loaded when their delete was announced: what those loads read is not kept. */
  readonly #deletedWhileLoading = new Set<string>();
  /** Write-behind: the newest record of each id with writes still queued, and how many. */
  readonly #pending = new Map<string, { record: SharedRecord; count: number }>();
  readonly #queue: WriteBehindQueue | undefined;
  /** True while commit announcements may be missed: the tier is not used. */
  #blind = false;
  #subscription: Promise<CommitSubscription | undefined> | undefined;
  #closed = false;
  /** The one `close()` run: a second call waits for it and settles like it. */
  #closing: Promise<void> | undefined;

  constructor(store: SharedContextStore, options?: ContextCacheOptions) {
    if (typeof store !== 'object' || store === null || typeof store.put !== 'function') {
      throw invalid(
        'ContextCache needs a store (MemoryContextStore, RedisContextStore) as its first argument',
      );
    }
    const resolved = resolveCacheOptions(options);
    this.#store = store;
    this.#loader = resolved.loader;
    this.#onError = resolved.onError;
    this.#maxEntries = resolved.maxEntries;
    this.#tier = new Lru(resolved.maxEntries, resolved.ttl);
    if (resolved.writeBehind !== undefined) {
      this.#queue = new WriteBehindQueue(
        store,
        { ...resolved.writeBehind, onError: (error, failure) => this.#onError(error, failure) },
        {
          stored: (write, record) => this.#settle(write.id, record),
          abandoned: (write) => this.#settle(write.id, undefined),
        },
      );
    }
    if (typeof store.subscribe === 'function') {
      this.#blind = true; // until the subscription is confirmed
      this.#subscription = this.#subscribe();
    }
  }

  /** Subscribes to commit announcements, retrying each second while the store cannot be reached. */
  async #subscribe(): Promise<CommitSubscription | undefined> {
    const handlers: CommitHandlers = {
      onCommit: (id, version) => this.#announced(id, version),
      onGap: () => {
        this.#blind = true;
        this.#tier.clear();
      },
      onResume: () => {
        this.#tier.clear();
        this.#blind = false;
      },
    };
    for (;;) {
      try {
        const subscription = await this.#store.subscribe!(handlers);
        if (this.#closed) {
          await subscription.close();
          return undefined;
        }
        this.#tier.clear();
        this.#blind = false;
        return subscription;
      } catch (error) {
        if (this.#closed) return undefined;
        this.#onError(
          error instanceof DContextError
            ? error
            : new DContextError('STORE_UNAVAILABLE', String(error)),
        );
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  /** A commit of `id` at `version` by anyone (0: deleted). */
  #announced(id: string, version: number): void {
    if (version === 0) {
      this.#tier.delete(id);
      this.#seen.delete(id);
      // A load under way may have read the record before the delete: its result is not kept.
      if (this.#inflight.has(id)) this.#deletedWhileLoading.add(id);
      return;
    }
    const cached = this.#tier.peek(id)?.record;
    if (cached !== undefined || this.#inflight.has(id)) {
      if (version > (this.#seen.get(id) ?? 0)) this.#seen.set(id, version);
    }
    if (cached !== undefined && cached.version < version) this.#tier.delete(id);
  }

  /** Keeps `record` in the tier unless a newer version was seen. */
  #keep(record: SharedRecord): void {
    const seen = this.#seen.get(record.id) ?? 0;
    if (record.version < seen || this.#blind || this.#deletedWhileLoading.has(record.id)) return;
    const cached = this.#tier.peek(record.id)?.record;
    if (cached !== undefined && cached.version > record.version) return;
    this.#seen.set(record.id, record.version);
    this.#tier.set(record.id, { record, resolved: Promise.resolve(record) });
    if (this.#seen.size > 2 * this.#maxEntries) this.#forgetEvicted();
  }

  /** Versions seen matter only for ids held or being loaded: the others read the store anyway. */
  #forgetEvicted(): void {
    for (const id of this.#seen.keys()) {
      if (this.#tier.peek(id) === undefined && !this.#inflight.has(id)) this.#seen.delete(id);
    }
  }

  #check(door: string): void {
    if (this.#closed) throw new DContextError('CLOSED', `ContextCache.${door} after close()`);
  }

  /** The record from the tier (or the write-behind queue) when it is current, else `undefined`. */
  #local(id: string): SharedRecord | undefined {
    const pending = this.#pending.get(id);
    if (pending !== undefined) return pending.record;
    return this.#held(id)?.record;
  }

  /**
   * The tier's entry for `id`. A held record is never older than a version seen committed:
   * `#keep` refuses those and `#announced` evicts the copy a newer commit makes stale.
   */
  #held(id: string): Held | undefined {
    return this.#blind ? undefined : this.#tier.get(id);
  }

  get(id: string): Promise<SharedRecord | undefined> {
    // The hit path: no async frame and no allocation (an id held here was checked when stored).
    if (typeof id === 'string' && !this.#closed) {
      if (this.#pending.size > 0) {
        const pending = this.#pending.get(id);
        if (pending !== undefined) return Promise.resolve(pending.record);
      }
      const held = this.#held(id);
      if (held !== undefined) return held.resolved;
    }
    return this.#miss(id);
  }

  async #miss(id: string): Promise<SharedRecord | undefined> {
    checkId(id, 'ContextCache.get');
    this.#check('get');
    return this.#load(id);
  }

  /** One store read per id at a time, however many callers miss together. */
  #load(id: string): Promise<SharedRecord | undefined> {
    let loading = this.#inflight.get(id);
    if (loading === undefined) {
      loading = this.#fetch(id).finally(() => this.#loaded(id));
      this.#inflight.set(id, loading);
    }
    return loading;
  }

  /** A load of `id` ended (kept or not). */
  #loaded(id: string): void {
    this.#inflight.delete(id);
    this.#deletedWhileLoading.delete(id);
  }

  async #fetch(id: string): Promise<SharedRecord | undefined> {
    let record = await this.#store.get(id);
    if (record === undefined && this.#loader !== undefined) record = await this.#loadInto(id);
    if (record !== undefined) this.#keep(record);
    return record;
  }

  /** Read-through: the loader's context, committed to the store as version 1. */
  async #loadInto(id: string): Promise<SharedRecord | undefined> {
    let loaded: unknown;
    try {
      loaded = await this.#loader!(id);
    } catch (cause) {
      throw new DContextError(
        'STORE_UNAVAILABLE',
        `ContextCache loader failed for '${id}': ${cause instanceof Error ? cause.message : String(cause)}`,
        undefined,
        { cause },
      );
    }
    if (loaded === undefined) return undefined;
    if (
      typeof loaded !== 'object' ||
      loaded === null ||
      !((loaded as LoadedContext).entries instanceof Snapshot)
    ) {
      throw invalid(
        `ContextCache loader returned ${describe(loaded)} for '${id}': it must return { entries: Snapshot, updatedBy? } or undefined`,
      );
    }
    const result = await this.#store.put({
      id,
      entries: (loaded as LoadedContext).entries,
      expectedVersion: 0,
      updatedBy: (loaded as LoadedContext).updatedBy ?? DEFAULT_WRITER,
    });
    return result.ok ? result.record : result.current;
  }

  async getMany(ids: readonly string[]): Promise<(SharedRecord | undefined)[]> {
    for (const id of ids) checkId(id, 'ContextCache.getMany');
    this.#check('getMany');
    const results: (SharedRecord | undefined | Promise<SharedRecord | undefined>)[] = ids.map(
      (id) => this.#local(id) ?? this.#inflight.get(id),
    );
    const missing = [...new Set(ids.filter((_, i) => results[i] === undefined))];
    if (missing.length > 0) {
      const batch = this.#store.getMany(missing);
      missing.forEach((id, k) => {
        const one = batch.then(async (records) => {
          let record = records[k];
          if (record === undefined && this.#loader !== undefined) record = await this.#loadInto(id);
          if (record !== undefined) this.#keep(record);
          return record;
        });
        const settled = one.finally(() => this.#loaded(id));
        settled.catch(() => {});
        this.#inflight.set(id, settled);
      });
      ids.forEach((id, i) => {
        if (results[i] === undefined) results[i] = this.#inflight.get(id);
      });
    }
    return Promise.all(results);
  }

  async put(write: SharedWrite): Promise<CommitResult> {
    checkWrite(write, 'ContextCache.put');
    this.#check('put');
    if (this.#queue !== undefined) return this.#commitBehind(write);
    const result = await this.#store.put(write);
    if (result.ok) this.#keep(result.record);
    else if (result.current !== undefined) this.#keep(result.current);
    else this.#tier.delete(write.id);
    return result;
  }

  async putMany(writes: readonly SharedWrite[]): Promise<CommitResult[]> {
    for (const write of writes) checkWrite(write, 'ContextCache.putMany');
    this.#check('putMany');
    if (this.#queue !== undefined) {
      const results: CommitResult[] = [];
      for (const write of writes) results.push(await this.#commitBehind(write));
      return results;
    }
    const results = await this.#store.putMany(writes);
    for (const result of results) {
      const record = result.ok ? result.record : result.current;
      if (record !== undefined) this.#keep(record);
    }
    return results;
  }

  /** Write-behind: compare-and-set against this process's view, then queued for the store. */
  async #commitBehind(write: SharedWrite): Promise<CommitResult> {
    const queue = this.#queue!;
    await queue.room();
    let pushed = false;
    try {
      const current = this.#local(write.id) ?? (await this.#load(write.id));
      const latest = this.#pending.get(write.id)?.record ?? current;
      if ((latest?.version ?? 0) !== write.expectedVersion) return { ok: false, current: latest };
      const updatedBy = write.updatedBy ?? DEFAULT_WRITER;
      const { record } = encodeCommit(
        write.id,
        write.entries,
        write.expectedVersion + 1,
        updatedBy,
      );
      // Queued first: after close() the queue refuses it (CLOSED) rather than hold it unflushed.
      queue.push({ ...write, updatedBy });
      pushed = true;
      const pending = this.#pending.get(write.id);
      this.#pending.set(write.id, { record, count: (pending?.count ?? 0) + 1 });
      return { ok: true, record };
    } finally {
      if (!pushed) queue.release();
    }
  }

  /** A queued write reached the store (`record`) or was given up (`undefined`). */
  #settle(id: string, record: SharedRecord | undefined): void {
    const pending = this.#pending.get(id);
    if (pending !== undefined && --pending.count === 0) this.#pending.delete(id);
    if (record !== undefined) this.#keep(record);
    else {
      // What this process showed is not what the store holds: read it again.
      this.#pending.delete(id);
      this.#tier.delete(id);
    }
  }

  /** Every version kept by the store (the cache keeps none). Write-behind: flushed first. */
  async history(id: string): Promise<SharedRecord[]> {
    checkId(id, 'ContextCache.history');
    this.#check('history');
    await this.#queue?.flush();
    return this.#store.history(id);
  }

  async rollback(
    id: string,
    version: number,
    options?: { readonly updatedBy?: string },
  ): Promise<SharedRecord> {
    checkId(id, 'ContextCache.rollback');
    this.#check('rollback');
    return rollbackOn(this, id, version, options?.updatedBy);
  }

  async delete(id: string): Promise<void> {
    checkId(id, 'ContextCache.delete');
    this.#check('delete');
    await this.#queue?.flush();
    this.#tier.delete(id);
    this.#seen.delete(id);
    await this.#store.delete(id);
  }

  subscribe(handlers: CommitHandlers): Promise<CommitSubscription> {
    if (this.#store.subscribe === undefined) {
      return Promise.reject(invalid('this ContextCache store does not announce commits'));
    }
    return this.#store.subscribe(handlers);
  }

  // Cache-aside helpers: the application decides what the tier holds.

  /** The record held in this process for `id`, without reading the store (`undefined`: none). */
  peek(id: string): SharedRecord | undefined {
    checkId(id, 'ContextCache.peek');
    return this.#local(id);
  }

  /** Puts a record (read elsewhere) into the tier, unless a newer version is held or was seen. */
  prime(record: SharedRecord): void {
    if (typeof record !== 'object' || record === null || typeof record.version !== 'number') {
      throw invalid('ContextCache.prime needs a SharedRecord (from a store)');
    }
    checkId(record.id, 'ContextCache.prime');
    this.#keep(record);
  }

  /** Drops `id` (or, without an id, everything) from the tier; the next read goes to the store. */
  invalidate(id?: string): void {
    if (id === undefined) this.#tier.clear();
    else this.#tier.delete(checkId(id, 'ContextCache.invalidate'));
  }

  /** Records held in the tier now. */
  get size(): number {
    return this.#tier.size;
  }

  /** Write-behind: writes queued for the store now (0 for the other strategies). */
  get queued(): number {
    return this.#queue?.length ?? 0;
  }

  /** Write-behind: sends everything queued now; resolves when the store took it (or it failed). */
  async flush(): Promise<void> {
    await this.#queue?.flush();
  }

  /**
   * Flushes every queued write, stops listening for commits and refuses further calls (`CLOSED`).
   * Rejects when any write-behind write could not be stored (each was reported to `onError`).
   * The store itself is not closed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    try {
      await this.#queue?.close();
    } finally {
      const subscription = await this.#subscription;
      await subscription?.close();
      this.#tier.clear();
    }
  }
}
