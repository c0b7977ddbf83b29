import { runtime } from '../internal/runtime.js';
import { currentRegistry } from '../registry/registry.js';
import { childFrame, type Frame, frameFrom } from '../store/frame.js';
import {
  requireFunction,
  requireSnapshot,
  scopeFunction,
  scopeName,
} from '../store/scope-arguments.js';
import type { Snapshot } from '../store/snapshot.js';
import { ContextStore } from '../store/store.js';
import { decodeSnapshot } from '../wire/decode.js';
import { encodeSnapshot, encodeSnapshotToString } from '../wire/encode.js';
import { checkInput, resolveSerializeOptions } from '../wire/options.js';
import type { DeserializeOptions, SerializeOptions } from '../wire/types.js';

// Read once: the ALS instance never changes for the life of the process.
const als = runtime.als;

/**
 * The asynchronous store, backed by one `AsyncLocalStorage`. Its context follows `await`,
 * promises, timers, `setImmediate`, `queueMicrotask` and event callbacks. Scopes are entered with
 * `AsyncLocalStorage.run` only (never `enterWith`), so nothing outlives the scope that set it.
 */
export class AsyncContext extends ContextStore {
  /** @internal */
  currentFrame(): Frame {
    return als.getStore() ?? runtime.root;
  }

  /** Whether code is running inside an async scope. */
  isActive(): boolean {
    return als.getStore() !== undefined;
  }

  /**
   * Runs `fn` in a child scope (named when `name` is given). Values set inside vanish when `fn`
   * returns, throws, or its promise settles; the result (or promise) of `fn` is returned.
   *
   * @example
   * await asyncCtx.scope('handler', async () => { asyncCtx.set(requestId, 'r1'); await work(); });
   */
  scope<R>(fn: () => R): R;
  scope<R>(name: string, fn: () => R): R;
  scope<R>(nameOrFn: string | (() => R), maybeFn?: () => R): R {
    const fn = scopeFunction(nameOrFn, maybeFn);
    currentRegistry();
    return als.run(childFrame(this.currentFrame(), scopeName(nameOrFn)), fn);
  }

  /** Runs `fn` with the snapshot's values and scope chain, as a new scope. */
  withContext<R>(snapshot: Snapshot, fn: () => R): R {
    const { values, chain, opaque } = requireSnapshot(snapshot, 'withContext(snapshot, fn)');
    requireFunction(fn, 'withContext(snapshot, fn)');
    currentRegistry();
    return als.run(frameFrom(values, chain, opaque), fn);
  }

  /** The current async context as wire bytes (see the top-level `serialize`). */
  serialize(options?: SerializeOptions | null): Uint8Array {
    return encodeSnapshot(
      this.snapshot(),
      undefined,
      resolveSerializeOptions(options, 'serialize'),
    );
  }

  /** The current async context as a base64url string (see `serializeToString`). */
  serializeToString(options?: SerializeOptions | null): string {
    return encodeSnapshotToString(
      this.snapshot(),
      resolveSerializeOptions(options, 'serializeToString'),
    );
  }

  /**
   * Runs `fn` (sync or async) with a context received from another process as a new scope (see
   * the top-level `deserialize`). Throws, running nothing, on malformed input.
   *
   * @example
   * await asyncCtx.deserialize(job.data.context, () => processJob(job));
   */
  deserialize<R>(input: Uint8Array | string, fn: () => R, options?: DeserializeOptions | null): R {
    checkInput(input);
    return this.withContext(decodeSnapshot(input, options), fn);
  }

  /**
   * A function that runs `fn` inside the context captured now (as a new scope per call, so
   * writes made by one call do not reach the next).
   */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    requireFunction(fn, 'bind(fn)');
    const captured = this.snapshot();
    return (...args: A): R => this.withContext(captured, () => fn(...args));
  }
}

/** The asynchronous store. */
export const asyncCtx: AsyncContext = new AsyncContext();
