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
import { childFrameOfSnapshot } from '../store/scope-frame.js';
import { frameOfSnapshot, type Snapshot } from '../store/snapshot.js';
import { ContextStore } from '../store/store.js';

// Read once: the ALS instance never changes for the life of the process.
const als = runtime.als;

/**
 * The asynchronous store, backed by one `AsyncLocalStorage`. Its context follows `await`,
 * promises, timers, `setImmediate`, `queueMicrotask` and event callbacks. Scopes are entered with
 * `AsyncLocalStorage.run` only (never `enterWith`), so nothing outlives the scope that set it.
 * (The wire verbs are added by the public `AsyncContext`, which composes this with wire/.)
 */
export class AsyncStore extends ContextStore {
  /** @internal */
  currentFrame(): Frame {
    return als.getStore() ?? runtime.root;
  }

  /** Whether code is running inside an async scope. */
  isActive(): boolean {
    return als.getStore() !== undefined;
  }

  /**
   * Runs `fn` in a child scope (named when `name` is given). Values set inside vanish when `fn`
   * returns, throws, or its promise settles; the result (or promise) of `fn` is returned.
   *
   * @example
   * await asyncCtx.scope('handler', async () => { asyncCtx.set(requestId, 'r1'); await work(); });
   */
  scope<R>(fn: () => R): R;
  scope<R>(name: string, fn: () => R): R;
  scope<R>(nameOrFn: string | (() => R), maybeFn?: () => R): R {
    const fn = scopeFunction(nameOrFn, maybeFn);
    currentRegistry();
    return als.run(childFrame(this.currentFrame(), scopeName(nameOrFn)), fn);
  }

  /** Runs `fn` with the snapshot's values and scope chain, as a new scope. */
  withContext<R>(snapshot: Snapshot, fn: () => R): R {
    const checked = requireSnapshot(snapshot, 'withContext(snapshot, fn)');
    requireFunction(fn, 'withContext(snapshot, fn)');
    currentRegistry();
    return als.run(frameOfSnapshot(checked), fn);
  }
}

/**
 * `withContext(snapshot, () => scope(name, fn))` in one `AsyncLocalStorage.run`: the snapshot's
 * values and chain, with `name` appended. For dcontext/http's ingress, which enters each request
 * with the context its header brought (the outer frame of the two-step form is never seen by
 * anyone: one frame and one `run` less per request). `snapshot` and `fn` are trusted.
 * @internal
 */
export function runInSnapshotScope<R>(snapshot: Snapshot, name: string, fn: () => R): R {
  currentRegistry();
  return als.run(childFrameOfSnapshot(snapshot, name), fn);
}

/**
 * A scope named `name`, built ahead of running code in it: a child of the async store's current
 * frame, or of `snapshot` when given. Nothing is entered yet: the caller writes its values with
 * `writeSlot` (validated; a refusal throws and leaves nothing behind) and then runs in the frame
 * with {@link runInFrame}. For dcontext/http's ingress: one frame, one copy of the values and no
 * closure per request. `snapshot` is trusted.
 * @internal
 */
export function preparedScope(snapshot: Snapshot | undefined, name: string): Frame {
  currentRegistry();
  return snapshot === undefined
    ? childFrame(als.getStore() ?? runtime.root, name)
    : childFrameOfSnapshot(snapshot, name);
}

/**
 * Runs `fn(a, b, c, d)` in `frame` (a frame from {@link preparedScope}), with one
 * `AsyncLocalStorage.run`, and returns what it returns.
 * @internal
 */
export function runInFrame<A, B, C, D, R>(
  frame: Frame,
  fn: (a: A, b: B, c: C, d: D) => R,
  a: A,
  b: B,
  c: C,
  d: D,
): R {
  return als.run(frame, fn, a, b, c, d);
}
