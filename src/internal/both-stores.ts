/**
 * Runs code in a context for both stores at once: the ALS frame for `asyncCtx` and the stack
 * frame for `syncCtx`. Used where dcontext itself invokes user code later (event listeners,
 * messages from another thread, pool tasks), so that the code sees its context through either
 * store, and through the top-level verbs.
 */

import { childFrame } from '../store/frame.js';
import type { Frame } from '../store/frame-shape.js';
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

/** The async store's current frame (undefined outside any async scope). */
export function currentAsyncFrame(): Frame | undefined {
  return als.getStore();
}

/**
 * `listener`, added while `own` is the async store's current frame, bound to it and to the sync
 * store's current frame, more cheaply than `bindListener`: frames, not snapshots. Emitted where
 * both frames are still the current ones (a request's `'end'` listener that Node adds after the
 * response, emitted from the request's own scope), it is called as it is: exactly what would
 * happen unbound. Emitted anywhere else, it runs in a fresh child scope of each frame, as
 * `bindListener` runs it: its writes reach neither `own` nor the emitter. `listener` is trusted.
 */
export function frameListener(
  listener: (this: unknown, ...args: unknown[]) => unknown,
  own: Frame,
): (this: unknown, ...args: unknown[]) => unknown {
  const syncFrame = runtime.syncCurrent;
  return function (this: unknown, ...args: unknown[]): unknown {
    if (als.getStore() === own && runtime.syncCurrent === syncFrame) {
      return listener.apply(this, args);
    }
    const previous = runtime.syncCurrent;
    runtime.syncCurrent = childFrame(syncFrame, undefined);
    try {
      // No closure per call: the store runs Reflect.apply(listener, this, args).
      return als.run(childFrame(own, undefined), Reflect.apply, listener, this, args);
    } finally {
      runtime.syncCurrent = previous;
    }
  };
}
