import { Worker, type WorkerOptions } from 'node:worker_threads';
import { snapshot } from '../context-api.js';
import { withSpawnContext } from '../thread/spawn-context.js';
import { toFullTransfer } from '../thread/transfer.js';
import { attachContext } from './error-context.js';
import { reviveWorkerError } from './thread-error.js';

/**
 * `new Worker(filename, options)`, with the current context handed to the worker: once the
 * worker's code calls `initialize(builder)` (with its own registry), both `syncCtx` and
 * `asyncCtx` read the spawner's values and scope chain as the worker's read-only root. Keys the
 * worker has not registered pass through as opaque entries (they reach whatever the worker
 * serializes); local-only values arrive by structured clone, matched by name.
 *
 * `options` goes to `Worker` unchanged: `workerData`, `env`, `argv` and `execArgv` are the
 * caller's. The context travels in the worker's environment data (see `setEnvironmentData`).
 * Errors the worker emits carry the spawner's context (see `errorContext`); an uncaught
 * `DContextError` in the worker arrives as a `DContextError` (Node keeps its code and key).
 *
 * Throws `NOT_CLONEABLE` (naming the key) when a local-only value cannot be structured-cloned,
 * before any worker is started.
 *
 * @example
 * const worker = spawnWithContext(new URL('./resize.js', import.meta.url), { workerData: job });
 */
export function spawnWithContext(filename: string | URL, options?: WorkerOptions): Worker {
  const context = snapshot();
  const transfer = toFullTransfer(context);
  const worker = withSpawnContext(transfer, () => new Worker(filename, options));
  worker.prependListener('error', (error: unknown) => {
    attachContext(reviveWorkerError(error), context);
    // Ours is the only listener: without it the error would crash the process, so it still does.
    if (worker.listenerCount('error') === 1) throw error;
  });
  return worker;
}
