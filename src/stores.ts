/**
 * The two public stores: the scope mechanics of `async/` and `sync/`, composed here with the wire
 * format, so that neither store module imports wire/ (layers point one way: store → stores → wire
 * → this facade).
 */
import { AsyncStore } from './async/async-context.js';
import type { Snapshot } from './store/snapshot.js';
import type { ScopeGuard } from './sync/scope-guard.js';
import { SyncStore } from './sync/sync-context.js';
import { decodeSnapshot } from './wire/decode.js';
import { encodeSnapshot, encodeSnapshotToString } from './wire/encode.js';
import { checkInput, resolveSerializeOptions } from './wire/options.js';
import type { DeserializeOptions, SerializeOptions } from './wire/types.js';

/** `snapshot` as wire bytes (the stores' `serialize`). */
function toBytes(snapshot: Snapshot, options: SerializeOptions | null | undefined): Uint8Array {
  return encodeSnapshot(snapshot, undefined, resolveSerializeOptions(options, 'serialize'));
}

/** `snapshot` as a base64url string (the stores' `serializeToString`). */
function toText(snapshot: Snapshot, options: SerializeOptions | null | undefined): string {
  return encodeSnapshotToString(snapshot, resolveSerializeOptions(options, 'serializeToString'));
}

/** A received context, checked and decoded (the stores' `deserialize`). */
function fromWire(input: unknown, options: DeserializeOptions | null | undefined): Snapshot {
  checkInput(input);
  return decodeSnapshot(input, options);
}

/**
 * The asynchronous store, backed by one `AsyncLocalStorage`: its context follows `await`,
 * promises, timers, `setImmediate`, `queueMicrotask` and event callbacks.
 */
export class AsyncContext extends AsyncStore {
  /** The current async context as wire bytes (see the top-level `serialize`). */
  serialize(options?: SerializeOptions | null): Uint8Array {
    return toBytes(this.snapshot(), options);
  }

  /** The current async context as a base64url string (see `serializeToString`). */
  serializeToString(options?: SerializeOptions | null): string {
    return toText(this.snapshot(), options);
  }

  /**
   * Runs `fn` (sync or async) with a context received from another process as a new scope (see
   * the top-level `deserialize`). Throws, running nothing, on malformed input.
   *
   * @example
   * await asyncCtx.deserialize(job.data.context, () => processJob(job), { accept: ['request_id'] });
   */
  deserialize<R>(input: Uint8Array | string, fn: () => R, options?: DeserializeOptions | null): R {
    return this.withContext(fromWire(input, options), fn);
  }
}

/**
 * The synchronous store: a plain per-thread stack of frames, with no async hooks and no promise
 * hooks. It does not follow callbacks by itself: carry context into them with `bind`.
 */
export class SyncContext extends SyncStore {
  /** The current sync context as wire bytes (see the top-level `serialize`). */
  serialize(options?: SerializeOptions | null): Uint8Array {
    return toBytes(this.snapshot(), options);
  }

  /** The current sync context as a base64url string (see `serializeToString`). */
  serializeToString(options?: SerializeOptions | null): string {
    return toText(this.snapshot(), options);
  }

  /**
   * Opens a scope holding a context received from another process (see the top-level
   * `deserialize`); returns its guard. Throws, opening nothing, on malformed input.
   *
   * @example
   * using guard = syncCtx.deserialize(message.headers.context);
   */
  deserialize(input: Uint8Array | string, options?: DeserializeOptions | null): ScopeGuard {
    return this.attach(fromWire(input, options));
  }
}

/** The asynchronous store. */
export const asyncCtx: AsyncContext = new AsyncContext();

/** The synchronous store of this thread. */
export const syncCtx: SyncContext = new SyncContext();
