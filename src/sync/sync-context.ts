import { DContextError } from '../errors.js';
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
import { ScopeGuard } from './scope-guard.js';

/**
 * The synchronous store: a plain per-thread stack of frames. It installs no async hooks and no
 * promise hooks, so code that only uses it pays nothing per promise. It does not follow
 * callbacks by itself: carry context into them with `bind` or a snapshot.
 */
export class SyncContext extends ContextStore {
  /** @internal */
  currentFrame(): Frame {
    return runtime.syncCurrent;
  }

  /** Whether a sync scope is open. */
  isActive(): boolean {
    return !runtime.syncCurrent.isRoot;
  }

  /** Opens an unnamed child scope; returns its guard. */
  enterScope(): ScopeGuard {
    currentRegistry();
    return new ScopeGuard(childFrame(runtime.syncCurrent, undefined));
  }

  /** Opens a named child scope (it appears in `scopeChain()`); returns its guard. */
  enterNamedScope(name: string): ScopeGuard {
    if (typeof name !== 'string') {
      throw new DContextError('INVALID_ARGUMENT', 'enterNamedScope(name) needs a string name');
    }
    currentRegistry();
    return new ScopeGuard(childFrame(runtime.syncCurrent, name));
  }

  /** Opens a scope holding the snapshot's values and scope chain; returns its guard. */
  attach(snapshot: Snapshot): ScopeGuard {
    const { values, chain, opaque } = requireSnapshot(snapshot, 'syncCtx.attach(snapshot)');
    currentRegistry();
    return new ScopeGuard(frameFrom(values, chain, opaque));
  }

  /**
   * Runs `fn` in a child scope and returns its result; values set inside vanish afterwards, also
   * when `fn` throws. `fn` must be synchronous: a returned promise throws `ASYNC_IN_SYNC_SCOPE`
   * (after the stack is restored) - use `asyncCtx.scope` for async work.
   */
  scope<R>(fn: () => R): R;
  scope<R>(name: string, fn: () => R): R;
  scope<R>(nameOrFn: string | (() => R), maybeFn?: () => R): R {
    const fn = scopeFunction(nameOrFn, maybeFn);
    currentRegistry();
    return runInFrame(childFrame(runtime.syncCurrent, scopeName(nameOrFn)), fn);
  }

  /** Runs `fn` with the snapshot's values and scope chain as a new scope. */
  withContext<R>(snapshot: Snapshot, fn: () => R): R {
    const { values, chain, opaque } = requireSnapshot(
      snapshot,
      'syncCtx.withContext(snapshot, fn)',
    );
    requireFunction(fn, 'syncCtx.withContext(snapshot, fn)');
    currentRegistry();
    return runInFrame(frameFrom(values, chain, opaque), fn);
  }

  /** The current sync context as wire bytes (see the top-level `serialize`). */
  serialize(options?: SerializeOptions | null): Uint8Array {
    return encodeSnapshot(
      this.snapshot(),
      undefined,
      resolveSerializeOptions(options, 'serialize'),
    );
  }

  /** The current sync context as a base64url string (see `serializeToString`). */
  serializeToString(options?: SerializeOptions | null): string {
    return encodeSnapshotToString(
      this.snapshot(),
      resolveSerializeOptions(options, 'serializeToString'),
    );
  }

  /**
   * Opens a scope holding a context received from another process (see the top-level
   * `deserialize`); returns its guard. Throws, opening nothing, on malformed input.
   *
   * @example
   * using guard = syncCtx.deserialize(message.headers.context);
   */
  deserialize(input: Uint8Array | string, options?: DeserializeOptions | null): ScopeGuard {
    checkInput(input);
    return this.attach(decodeSnapshot(input, options));
  }

  /**
   * A function that runs `fn` inside the context captured now, each call in a fresh scope.
   * This is how sync context reaches callbacks, timers and event listeners.
   */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    requireFunction(fn, 'syncCtx.bind(fn)');
    const captured = this.snapshot();
    return (...args: A): R => this.withContext(captured, () => fn(...args));
  }

  /**
   * `setImmediate`, with `callback` run in the context captured now (see `bind`; like `bind`,
   * the callback must be synchronous). `asyncCtx` follows the plain `setImmediate` by itself.
   * @example
   * syncCtx.setImmediate(() => log(syncCtx.get(requestId)));
   */
  setImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): NodeJS.Immediate {
    return setImmediate(this.bind(callback), ...args);
  }

  /** `setTimeout`, with `callback` run in the context captured now (see `setImmediate`). */
  setTimeout<A extends unknown[]>(
    callback: (...args: A) => void,
    delay?: number,
    ...args: A
  ): NodeJS.Timeout {
    return setTimeout(this.bind(callback), delay, ...args);
  }

  /** `queueMicrotask`, with `callback` run in the context captured now (see `setImmediate`). */
  queueMicrotask(callback: () => void): void {
    queueMicrotask(this.bind(callback));
  }
}

function runInFrame<R>(frame: Frame, fn: () => R): R {
  const previous = runtime.syncCurrent;
  runtime.syncCurrent = frame;
  let result: R;
  try {
    result = fn();
  } finally {
    // Restores even when `fn` left inner guards open: a scope never outlives its callback.
    runtime.syncCurrent = previous;
  }
  if (isThenable(result)) {
    // The promise is left alone: if it rejects, that error still surfaces as it would have.
    throw new DContextError(
      'ASYNC_IN_SYNC_SCOPE',
      'syncCtx.scope() got a function that returned a promise; the sync store does not follow await - use asyncCtx.scope() (or the top-level scope()) for async work',
    );
  }
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The synchronous store of this thread. */
export const syncCtx: SyncContext = new SyncContext();
