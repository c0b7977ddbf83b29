import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry } from '../registry/registry.js';
import { childFrame } from '../store/frame.js';
import type { Frame } from '../store/frame-shape.js';
import {
  requireFunction,
  requireSnapshot,
  scopeFunction,
  scopeName,
} from '../store/scope-arguments.js';
import { frameOfSnapshot, type Snapshot } from '../store/snapshot.js';
import { ContextStore } from '../store/store.js';
import { ScopeGuard } from './scope-guard.js';

/**
 * The synchronous store: a plain per-thread stack of frames. It installs no async hooks and no
 * promise hooks, so code that only uses it pays nothing per promise. It does not follow
 * callbacks by itself: carry context into them with `bind` or a snapshot.
 */
export class SyncStore extends ContextStore {
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
    const checked = requireSnapshot(snapshot, 'syncCtx.attach(snapshot)');
    currentRegistry();
    return new ScopeGuard(frameOfSnapshot(checked));
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
    const checked = requireSnapshot(snapshot, 'syncCtx.withContext(snapshot, fn)');
    requireFunction(fn, 'syncCtx.withContext(snapshot, fn)');
    currentRegistry();
    return runInFrame(frameOfSnapshot(checked), fn);
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
