/**
 * How a worker started by `spawnWithContext` receives its spawner's context. The spawner puts a
 * {@link ContextTransfer} in the worker's environment data (`setEnvironmentData`, which Node
 * clones into a worker when it is constructed) for the duration of `new Worker`; `initialize` in
 * the worker calls {@link adoptSpawnerContext}, which makes it the worker's read-only root. No
 * preload, `execArgv`, `env` or `workerData` is involved, so it works for ESM and CommonJS
 * workers, TypeScript loaders and `eval` workers alike.
 */

// A namespace import: a runtime whose worker_threads lacks environment data still loads dcontext
// (spawnWithContext then throws UNSUPPORTED_RUNTIME instead of failing at import).
import * as workerThreads from 'node:worker_threads';
import { causeText } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { unsupportedRuntime } from '../internal/unsupported.js';
import { fitToRegistry } from '../store/deferred-entries.js';
import { rootFrame } from '../store/frame-shape.js';
import { CHAIN, FOREIGN, OPAQUE, VALUES } from '../store/snapshot.js';
import { decodeSnapshot } from '../wire/decode.js';
import { withLocalValues } from './local-values.js';
import { type ContextTransfer, isTransfer } from './transfer-shape.js';

/** The environment-data key the spawner's context travels under. */
export const SPAWN_CONTEXT_KEY = 'dcontext:spawn-context';

/** Runs `spawn` with `transfer` in the environment data every worker it constructs inherits. */
export function withSpawnContext<R>(transfer: ContextTransfer, spawn: () => R): R {
  const { getEnvironmentData, setEnvironmentData } = workerThreads;
  if (typeof setEnvironmentData !== 'function' || typeof getEnvironmentData !== 'function') {
    throw unsupportedRuntime(
      'worker_threads.setEnvironmentData',
      'spawnWithContext',
      'start the worker with new Worker() and send the context with postWithContext',
    );
  }
  const previous = getEnvironmentData(SPAWN_CONTEXT_KEY);
  setEnvironmentData(SPAWN_CONTEXT_KEY, transfer);
  try {
    return spawn();
  } finally {
    // Restored at once: a plain `new Worker` later must not inherit this context.
    setEnvironmentData(SPAWN_CONTEXT_KEY, previous as ContextTransfer | undefined);
  }
}

/**
 * Called by `initialize` once the registry is frozen: in a worker started with context, makes
 * that context the root that both stores read outside any scope. It is taken out of the
 * environment data, so workers this worker starts later do not inherit it implicitly.
 */
export function adoptSpawnerContext(): void {
  const { getEnvironmentData, isMainThread, setEnvironmentData } = workerThreads;
  if (isMainThread || typeof getEnvironmentData !== 'function') return;
  const received = getEnvironmentData(SPAWN_CONTEXT_KEY);
  if (received === undefined) return;
  setEnvironmentData(SPAWN_CONTEXT_KEY, undefined);
  try {
    // The spawner sends it in full (`toFullTransfer`): read once, so a delta would not pay, and
    // the core entry needs no delta decoder to adopt it.
    if (!isTransfer(received) || (received.delta !== undefined && received.delta !== null)) {
      throw new Error('the environment data has an unknown shape');
    }
    const snapshot = withLocalValues(decodeSnapshot(received.wire), received.local);
    const root = rootFrame(
      fitToRegistry(snapshot[VALUES]),
      snapshot[CHAIN],
      snapshot[OPAQUE],
      snapshot[FOREIGN],
    );
    if (runtime.syncCurrent === runtime.root) runtime.syncCurrent = root;
    runtime.root = root;
  } catch (error) {
    // The worker still starts, with an empty root: losing context beats failing initialize().
    const detail = causeText(error);
    process.emitWarning(`dcontext: could not adopt the spawning thread's context: ${detail}`, {
      type: 'DContextWarning',
      code: 'DCONTEXT_SPAWN_CONTEXT',
    });
  }
}
