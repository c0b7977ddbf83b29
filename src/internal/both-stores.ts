/**
 * Runs code in a context for both stores at once: the ALS frame for `asyncCtx` and the stack
 * frame for `syncCtx`. Used where dcontext itself invokes user code later (event listeners,
 * messages from another thread, pool tasks), so that the code sees its context through either
 * store, and through the top-level verbs.
 */

import { captureFrame, frameOfSnapshot, type Snapshot } from '../store/snapshot.js';
import { runtime } from './runtime.js';

const als = runtime.als;

/** The current context of each store, captured together. */
export interface CapturedContexts {
  readonly async: Snapshot;
  readonly sync: Snapshot;
}

/**
 * Captures both stores now, in O(1). Works before `initialize` too (a listener may be bound at
 * module load); the frames are fitted to the registry when they are re-entered.
 */
export function captureBoth(): CapturedContexts {
  return {
    async: captureFrame(als.getStore() ?? runtime.root),
    sync: captureFrame(runtime.syncCurrent),
  };
}

/** The same snapshot for both stores (a context that arrived from another thread). */
export function bothFrom(snapshot: Snapshot): CapturedContexts {
  return { async: snapshot, sync: snapshot };
}

/**
 * Calls `fn` with `thisArg` and `args` inside `contexts`, each store in a fresh scope (writes made
 * by one call never reach the next). Unlike `syncCtx.scope`, a returned promise is allowed: the
 * async store follows it, and the sync store has served the synchronous part.
 */
export function runInBoth<A extends unknown[], R>(
  contexts: CapturedContexts,
  fn: (this: unknown, ...args: A) => R,
  thisArg: unknown,
  args: A,
): R {
  const previous = runtime.syncCurrent;
  runtime.syncCurrent = frameOfSnapshot(contexts.sync);
  try {
    return als.run(frameOfSnapshot(contexts.async), () => fn.apply(thisArg, args));
  } finally {
    runtime.syncCurrent = previous;
  }
}

/**
 * `listener`, bound to the frames of both stores active now: unlike `bindListener` (a fresh scope
 * per call, from a snapshot), it runs in those very frames, as the code of the scope that added it
 * does (its writes land there). When they are still the active frames at the emit (an emit
 * scheduled from that scope, as a request's `'end'` after its response is), it is called as it
 * is; otherwise they are entered with one `AsyncLocalStorage.run`. For dcontext/http's request
 * binding, where every request gets such a listener from Node itself. `listener` is trusted.
 */
export function frameListener(
  listener: (this: unknown, ...args: unknown[]) => unknown,
): (this: unknown, ...args: unknown[]) => unknown {
  const asyncFrame = als.getStore();
  const syncFrame = runtime.syncCurrent;
  return function (this: unknown, ...args: unknown[]): unknown {
    if (als.getStore() === asyncFrame && runtime.syncCurrent === syncFrame) {
      return listener.apply(this, args);
    }
    const previous = runtime.syncCurrent;
    runtime.syncCurrent = syncFrame;
    try {
      // No closure per call: the store runs Reflect.apply(listener, this, args).
      return asyncFrame === undefined
        ? als.exit(Reflect.apply, listener, this, args)
        : als.run(asyncFrame, Reflect.apply, listener, this, args);
    } finally {
      runtime.syncCurrent = previous;
    }
  };
}
