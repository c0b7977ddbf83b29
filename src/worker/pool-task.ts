import { runtime } from '../internal/runtime.js';
import { frameOfSnapshot } from '../store/snapshot.js';
import { contextOf } from './envelope.js';

/**
 * The worker side of {@link runWithContext}: wraps a Piscina task function so that each task
 * runs inside the context it was submitted with, in both `asyncCtx` and `syncCtx`, as a fresh
 * scope. Tasks submitted with a plain `pool.run` reach `fn` unchanged, without context. The
 * worker calls `initialize(builder)` before its first task, as any dcontext code does.
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
    // A fresh frame per store (a write through one store must not reach the other), entered
    // without a closure or an argument array per task; as `runInBoth` does for other callers.
    const previous = runtime.syncCurrent;
    runtime.syncCurrent = frameOfSnapshot(context);
    try {
      return runtime.als.run(frameOfSnapshot(context), fn, (data as unknown[])[1] as T);
    } finally {
      runtime.syncCurrent = previous;
    }
  };
}
