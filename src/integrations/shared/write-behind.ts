/**
 * The write-behind queue of a `ContextCache`: commits wait here, in order, and reach the store in
 * pipelined batches. Bounded (a full queue makes writers wait, or fail with `QUEUE_FULL`); a
 * failed batch is retried; every failure goes to `onError`; nothing is dropped silently.
 */
import { DContextError, isDContextError } from '../../index.js';
import { sameValue } from './equal.js';
import type { SharedContextStore, SharedRecord, SharedWrite } from './types.js';

/** What `onError` is told about a failed write-behind store call. */
export interface WriteBehindFailure {
  /** The writes of the failed call, in order. */
  readonly writes: readonly SharedWrite[];
  /** 1 for the first try of this batch. */
  readonly attempt: number;
  /** `false`: these writes are given up (they count against `close()`). */
  readonly willRetry: boolean;
}

/** The write-behind settings, resolved. */
export interface WriteBehindSettings {
  readonly maxQueue: number;
  readonly flushInterval: number;
  readonly maxBatch: number;
  readonly onFull: 'wait' | 'fail';
  readonly flushRetries: number;
  readonly retryDelay: number;
  readonly onError: (error: DContextError, failure: WriteBehindFailure) => void;
}

/** How the queue tells the cache what became of a write. */
export interface WriteBehindOutcome {
  stored(write: SharedWrite, record: SharedRecord): void;
  abandoned(write: SharedWrite): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class WriteBehindQueue {
  readonly #store: SharedContextStore;
  readonly #settings: WriteBehindSettings;
  readonly #outcome: WriteBehindOutcome;
  readonly #queue: SharedWrite[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #failures: DContextError[] = [];
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;
  /** Places promised by `room()` and not yet filled by `push` or given back by `release`. */
  #reserved = 0;

  constructor(
    store: SharedContextStore,
    settings: WriteBehindSettings,
    outcome: WriteBehindOutcome,
  ) {
    this.#store = store;
    this.#settings = settings;
    this.#outcome = outcome;
    this.#timer = setInterval(() => void this.flush(), settings.flushInterval);
    this.#timer.unref();
  }

  /** Writes queued and not yet sent. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Resolves when a place for one more write is reserved (at once, or per `onFull`); then call
   * `push` or `release`.
   */
  async room(): Promise<void> {
    while (this.#queue.length + this.#reserved >= this.#settings.maxQueue) {
      if (this.#settings.onFull === 'fail') {
        throw new DContextError(
          'QUEUE_FULL',
          `the write-behind queue holds ${this.#settings.maxQueue} writes the store has not taken yet; retry later, raise maxQueue, or use onFull: 'wait'`,
        );
      }
      void this.flush();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#reserved++;
  }

  /** Gives back a place reserved by `room()`. */
  release(): void {
    this.#reserved--;
    this.#waiters.shift()?.();
  }

  /** Queues `write` in the place `room()` reserved; a full batch is sent at once. */
  push(write: SharedWrite): void {
    this.#reserved--;
    this.#queue.push(write);
    if (this.#queue.length >= this.#settings.maxBatch) void this.flush();
  }

  /** Sends what is queued; resolves when this flush is done (never rejects). */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#settings.maxBatch);
      for (const wake of this.#waiters.splice(0)) wake();
      await this.#send(batch);
    }
  }

  async #send(batch: SharedWrite[]): Promise<void> {
    const { flushRetries, retryDelay, onError } = this.#settings;
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await this.#store.putMany(batch);
        results.forEach((result, i) => {
          const write = batch[i]!;
          if (result.ok) this.#outcome.stored(write, result.record);
          else if (attempt > 1 && sentBefore(write, result.current))
            this.#outcome.stored(write, result.current!);
          else this.#abandon(conflictOf(write, result.current), [write], attempt);
        });
        return;
      } catch (cause) {
        const error = asError(cause);
        const willRetry = attempt <= flushRetries;
        if (!willRetry) {
          this.#abandon(error, batch, attempt);
          return;
        }
        report(onError, error, { writes: batch, attempt, willRetry });
        await sleep(retryDelay * 2 ** (attempt - 1));
      }
    }
  }

  #abandon(error: DContextError, writes: SharedWrite[], attempt: number): void {
    for (const write of writes) {
      this.#failures.push(error);
      this.#outcome.abandoned(write);
    }
    report(this.#settings.onError, error, { writes, attempt, willRetry: false });
  }

  /** Stops the timer and sends everything; rejects when any write was given up. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#queue.length > 0 || this.#flushing !== undefined) await this.flush();
    for (const wake of this.#waiters.splice(0)) wake();
    if (this.#failures.length > 0) {
      const first = this.#failures[0]!;
      throw new DContextError(
        first.code,
        `${this.#failures.length} write-behind write(s) could not be stored (each was reported to onError); first: ${first.message}`,
        first.key,
        { cause: new AggregateError(this.#failures) },
      );
    }
  }
}

/** A retried batch whose first try reached the store before the reply was lost. */
function sentBefore(write: SharedWrite, current: SharedRecord | undefined): boolean {
  return (
    current !== undefined &&
    current.version === write.expectedVersion + 1 &&
    current.updatedBy === write.updatedBy &&
    sameValue([...current.entries.entries()], [...write.entries.entries()])
  );
}

function conflictOf(write: SharedWrite, current: SharedRecord | undefined): DContextError {
  return new DContextError(
    'CONFLICT',
    `write-behind of shared context '${write.id}' based on version ${write.expectedVersion} lost: the store holds version ${current?.version ?? 0}, committed by another writer meanwhile; this change was not stored`,
  );
}

function asError(cause: unknown): DContextError {
  if (isDContextError(cause)) return cause;
  return new DContextError('STORE_UNAVAILABLE', `the store failed: ${String(cause)}`, undefined, {
    cause,
  });
}

function report(
  onError: WriteBehindSettings['onError'],
  error: DContextError,
  failure: WriteBehindFailure,
): void {
  try {
    onError(error, failure);
  } catch {
    // A throwing handler must not stop the queue.
  }
}
