import { runtime } from '../internal/runtime.js';
import { frameOfSnapshot } from '../store/snapshot.js';
import { CHECKED_TASK_TAG, contextOf } from './envelope.js';
import { markResult } from './task-result.js';
import { toThreadError } from './thread-error.js';

/**
 * The worker side of {@link runWithContext}: wraps a Piscina task function so that each task
 * runs inside the context it was submitted with, in both `asyncCtx` and `syncCtx`, as a fresh
 * scope. Tasks submitted with a plain `pool.run` reach `fn` unchanged, without context. The
 * worker calls `initialize(builder)` before its first task, as any dcontext code does.
 *
 * A `DContextError` thrown by `fn` reaches the caller of `runWithContext` as a `DContextError`
 * (same code, key, message and stack), which a plain structured clone would not keep.
 *
 * @example
 * // resize-worker.js, the pool's filename
 * initialize(builder);
 * export default withTaskContext(async ({ path }) => resize(path)); // get(requestId) works
 */
export function withTaskContext<T, R>(fn: (task: T) => R): (task: unknown) => R {
  return (data: unknown): R => {
    const context = contextOf(data);
    if (context === undefined) return fn(data as T);
    const checked = (data as unknown[])[0] === CHECKED_TASK_TAG;
    // A fresh frame per store (a write through one store must not reach the other), entered
    // without a closure or an argument array per task; as `runInBoth` does for other callers.
    const previous = runtime.syncCurrent;
    runtime.syncCurrent = frameOfSnapshot(context);
    let result: R;
    try {
      result = runtime.als.run(frameOfSnapshot(context), fn, (data as unknown[])[1] as T);
    } catch (error) {
      throw toThreadError(error);
    } finally {
      runtime.syncCurrent = previous;
    }
    if (result instanceof Promise) {
      // One reaction per async task: its rejection must cross in a form that keeps a
      // DContextError's code.
      return result.then(checked ? markResult : undefined, rethrowForThread) as R;
    }
    return (checked ? markResult(result) : result) as R;
  };
}

function rethrowForThread(error: unknown): never {
  throw toThreadError(error);
}
