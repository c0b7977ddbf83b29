import { snapshot } from '../context-api.js';
import type { Snapshot } from '../store/snapshot.js';
import { type ContextEnvelope, wrap } from './envelope.js';
import { attachContext } from './error-context.js';

/**
 * What {@link runWithContext} needs of a pool: Piscina's `run(task, options)`. Structural, so
 * dcontext does not load Piscina (Piscina >= 4; any pool with the same `run` works).
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
 * cannot be structured-cloned. A task's error — thrown by the task, or a worker that exited
 * under it — carries the task's context (see `errorContext`).
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
  let context: Snapshot;
  let envelope: ContextEnvelope;
  try {
    context = snapshot();
    envelope = wrap(context, payload);
  } catch (error) {
    return Promise.reject(error);
  }
  // Not an async function: one promise fewer per task, on the path a pool takes per task.
  const pending = runOptions === undefined ? pool.run(envelope) : pool.run(envelope, runOptions);
  return pending.then(undefined, (error: unknown) => {
    throw attachContext(error, context);
  }) as Promise<R>;
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
