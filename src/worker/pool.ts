import { snapshot } from '../context-api.js';
import { DContextError } from '../errors.js';
import type { Snapshot } from '../store/snapshot.js';
import { CHECKED_TASK_TAG, type ContextEnvelope, wrap } from './envelope.js';
import { attachContext } from './error-context.js';
import { isCheckedPool, isMarkedResult, markPoolChecked } from './task-result.js';
import { fromThreadError, isThreadError } from './thread-error.js';

/**
 * What {@link runWithContext} needs of a pool: Piscina's `run(task, options)`. Structural, so
 * dcontext does not load Piscina (Piscina >= 4; any pool with the same `run` works, if it
 * resolves to what the task function returned).
 */
export interface TaskPool<O = object> {
  run(task: unknown, options?: O): Promise<unknown>;
}

/**
 * `pool.run(task, options)`, with the task running inside the current context on the worker
 * (the worker exports its function through {@link withTaskContext}). Many tasks from many
 * concurrent requests each see their own context, also when one worker runs several at once.
 *
 * A task made with `Piscina.move(value)` is moved as with `pool.run`.
 *
 * Rejects with `NOT_CLONEABLE` (naming the key, with nothing sent) when a local-only value
 * cannot be structured-cloned, and with `TASK_NOT_WRAPPED` when the pool's task function is not
 * wrapped with {@link withTaskContext} (it received dcontext's envelope instead of `task`; found
 * from the first result of a pool). A task's error — thrown by the task, or a worker that exited
 * under it — carries the task's context (see `errorContext`); a `DContextError` thrown by the
 * task arrives as a `DContextError`. The context is captured when `runWithContext` is called: a
 * task waiting in the pool's queue does not see values changed in place after that.
 *
 * @example
 * const thumbnail = await runWithContext<Buffer>(pool, { path });
 */
export function runWithContext<R = unknown, O = object>(
  pool: TaskPool<O>,
  task: unknown,
  options?: O,
): Promise<R> {
  let payload = task;
  let runOptions = options;
  if (isMovable(task)) {
    // Piscina recognises `Piscina.move(value)` only at the top level; inside the envelope it would
    // be cloned instead of moved. So do what Piscina does: send the value, transfer the rest.
    payload = task[VALUE];
    const given = (options as { transferList?: readonly unknown[] } | undefined)?.transferList;
    runOptions = { ...options, transferList: (given ?? []).concat(task[TRANSFERABLE]) } as O;
  }
  const checked = isCheckedPool(pool, runOptions);
  let context: Snapshot;
  let envelope: ContextEnvelope;
  try {
    context = snapshot();
    envelope = checked ? wrap(context, payload) : wrap(context, payload, CHECKED_TASK_TAG);
  } catch (error) {
    return Promise.reject(error);
  }
  // Not an async function: one promise fewer per task, on the path a pool takes per task.
  const pending = runOptions === undefined ? pool.run(envelope) : pool.run(envelope, runOptions);
  const failed = (error: unknown): never => {
    throw attachTaskContext(isThreadError(error) ? fromThreadError(error) : error, context);
  };
  if (checked) return pending.then(undefined, failed) as Promise<R>;
  return pending.then((result) => {
    if (!isMarkedResult(result)) throw attachContext(notWrapped(), context);
    markPoolChecked(pool, runOptions);
    return result[1];
  }, failed) as Promise<R>;
}

function notWrapped(): DContextError {
  return new DContextError(
    'TASK_NOT_WRAPPED',
    "the pool's task function is not wrapped with withTaskContext, so it received dcontext's envelope instead of the task; in the worker file, export default withTaskContext(fn) (import { withTaskContext } from 'dcontext/worker')",
  );
}

/** Errors this thread attached a task's context to. */
const attached = new WeakSet<object>();

/**
 * Attaches `context` to `error`. Piscina rejects every task of a worker that exited with one
 * shared `Error`: each task after the first gets an object of its own whose prototype is that
 * error (so `instanceof`, `message` and `stack` hold) with its own context.
 */
function attachTaskContext(error: unknown, context: Snapshot): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const own = attached.has(error) ? Object.create(error) : error;
  attachContext(own, context);
  attached.add(own);
  return own;
}

// Piscina's public symbols for `Piscina.move(value)`: registered symbols, so no import is needed.
const TRANSFERABLE = Symbol.for('Piscina.transferable');
const VALUE = Symbol.for('Piscina.valueOf');

interface Movable {
  readonly [TRANSFERABLE]: unknown;
  readonly [VALUE]: unknown;
}

/** Whether `task` was made with `Piscina.move(value)` (Piscina's own test, by its symbols). */
function isMovable(task: unknown): task is Movable {
  return typeof task === 'object' && task !== null && TRANSFERABLE in task && VALUE in task;
}
