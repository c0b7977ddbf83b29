/** The options of `ContextCache`, checked (`INVALID_ARGUMENT`) and resolved once. */
import type { DContextError, Snapshot } from '../../index.js';
import { intOption, invalid, optionsObject } from './check.js';
import type { WriteBehindFailure, WriteBehindSettings } from './write-behind.js';

/** What a read-through `loader` returns for an id the store does not hold. */
export interface LoadedContext {
  readonly entries: Snapshot;
  readonly updatedBy?: string;
}

/** Options of {@link ContextCache}. */
export interface ContextCacheOptions {
  /**
   * - `'write-through'` (default): a commit reaches the store before it resolves, then the tier.
   * - `'read-through'`: write-through, and a miss in the store calls `loader`.
   * - `'write-behind'`: a commit is checked against the tier, applied to it and resolves at once;
   *   the store gets it from a bounded queue (see `maxQueue`, `onFull`, `close()`).
   */
  readonly strategy?: 'write-through' | 'read-through' | 'write-behind';
  /**
   * How long a record stays in the tier, in ms (default 30 000; 0: until evicted). The upper bound
   * of the stale window when commit announcements are lost (see docs/shared-context.md).
   */
  readonly ttl?: number;
  /** Records kept in the tier (default 1000); the least recently used go first. */
  readonly maxEntries?: number;
  /** Read-through: the context for an id the store does not hold (`undefined`: none). */
  readonly loader?: (id: string) => LoadedContext | undefined | Promise<LoadedContext | undefined>;
  /** Write-behind: writes waiting for the store at most (default 1000). */
  readonly maxQueue?: number;
  /** Write-behind: what a commit does when the queue is full: `'wait'` (default) or `'fail'` (`QUEUE_FULL`). */
  readonly onFull?: 'wait' | 'fail';
  /** Write-behind: ms between flushes (default 50); a full batch is sent at once. */
  readonly flushInterval?: number;
  /** Write-behind: writes per pipelined store call (default 100). */
  readonly maxBatch?: number;
  /** Write-behind: retries of a failed store call (default 3). */
  readonly flushRetries?: number;
  /** Write-behind: ms before the first retry of a failed store call, doubling each time (default 100). */
  readonly retryDelay?: number;
  /**
   * Every failure the cache cannot return to a caller: a failed write-behind store call (retried
   * or given up, see `failure.willRetry`), a lost subscription. Default: a process warning.
   */
  readonly onError?: (error: DContextError, failure?: WriteBehindFailure) => void;
}

const STRATEGIES = new Set(['write-through', 'read-through', 'write-behind']);

function warn(error: DContextError): void {
  process.emitWarning(error.message, {
    type: 'DContextWarning',
    code: `DCONTEXT_SHARED_${error.code}`,
  });
}

/** The options of a cache, resolved. */
export interface ResolvedCacheOptions {
  readonly loader: ContextCacheOptions['loader'];
  readonly onError: (error: DContextError, failure?: WriteBehindFailure) => void;
  readonly maxEntries: number;
  readonly ttl: number;
  /** Set for `'write-behind'` (its `onError` is the cache's). */
  readonly writeBehind: Omit<WriteBehindSettings, 'onError'> | undefined;
}

/** Checks `options` and fills in the defaults. */
export function resolveCacheOptions(options: unknown): ResolvedCacheOptions {
  const object = optionsObject<ContextCacheOptions>(options, 'ContextCache');
  const strategy = object.strategy ?? 'write-through';
  if (!STRATEGIES.has(strategy)) {
    throw invalid(
      `ContextCache option strategy must be 'write-through', 'read-through' or 'write-behind' (got ${String(strategy)})`,
    );
  }
  if (object.loader !== undefined && typeof object.loader !== 'function') {
    throw invalid('ContextCache option loader must be a function (id) => context or undefined');
  }
  if (strategy === 'read-through' && object.loader === undefined) {
    throw invalid("ContextCache strategy 'read-through' needs a loader(id)");
  }
  if (object.onError !== undefined && typeof object.onError !== 'function') {
    throw invalid('ContextCache option onError must be a function');
  }
  const onFull = object.onFull ?? 'wait';
  if (onFull !== 'wait' && onFull !== 'fail') {
    throw invalid("ContextCache option onFull must be 'wait' or 'fail'");
  }
  const option = (name: keyof ContextCacheOptions, fallback: number, min: number) =>
    intOption(object[name], fallback, min, `ContextCache option ${name}`);
  return {
    loader: object.loader,
    onError: object.onError ?? warn,
    maxEntries: option('maxEntries', 1000, 1),
    ttl: option('ttl', 30_000, 0),
    writeBehind:
      strategy !== 'write-behind'
        ? undefined
        : {
            maxQueue: option('maxQueue', 1000, 1),
            flushInterval: option('flushInterval', 50, 1),
            maxBatch: option('maxBatch', 100, 1),
            onFull,
            flushRetries: option('flushRetries', 3, 0),
            retryDelay: option('retryDelay', 100, 0),
          },
  };
}
