import { bothFrom, runInBoth } from '../internal/both-stores.js';
import { unwrap } from './envelope.js';

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
    const received = unwrap(data);
    if (received === undefined) return fn(data as T);
    return runInBoth(bothFrom(received.snapshot), fn, undefined, [received.payload as T]);
  };
}
