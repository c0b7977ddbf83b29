/**
 * `dcontext/shared`: contexts that outlive a request (a session, an order, a workflow), stored
 * with versions where every service reaches them, and changed concurrently without losing an
 * update. See docs/shared-context.md.
 *
 * - {@link withShared}: run code in a shared context's scope; what it changes is committed.
 * - {@link threeWayMerge} and the {@link ConflictPolicy} policies.
 * - Stores: {@link MemoryContextStore} (embedded), {@link RedisContextStore} (ioredis), and
 *   {@link ContextCache} in front of either.
 */

export { ContextCache } from './cache.js';
export type { ContextCacheOptions, LoadedContext } from './cache-options.js';
export { MemoryContextStore, type MemoryContextStoreOptions } from './memory-store.js';
export { type EntryValues, type MergeConflict, type MergeResult, threeWayMerge } from './merge.js';
export { type ConflictPolicy, type SharedConflict, SharedConflictError } from './policies.js';
export type { RedisBatch, RedisClient } from './redis-client.js';
export { RedisContextStore, type RedisContextStoreOptions } from './redis-store.js';
export type {
  CommitHandlers,
  CommitListener,
  CommitResult,
  CommitSubscription,
  SharedContextStore,
  SharedRecord,
  SharedWrite,
} from './types.js';
export { type WithSharedOptions, withShared } from './with-shared.js';
