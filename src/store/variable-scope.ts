/**
 * Running code with an `AsyncContext.Variable` bound, and capturing or re-entering the whole
 * context, for dcontext/async-context. Every variable lives in the frames of the one
 * AsyncLocalStorage (see variable-map.ts): binding one opens a child frame, so a variable's `run`
 * is also an unnamed dcontext scope (a typed key set inside it vanishes with it), and a capture
 * is the O(1) frame capture every other snapshot uses.
 */
import { runtime } from '../internal/runtime.js';
import type { KeyRef } from '../registry/context-key.js';
import { requireDefinition } from '../registry/registry.js';
import { childFrame, unnamedChildFrame, writeSlot } from './frame.js';
import type { Frame } from './frame-shape.js';
import {
  isEnabled,
  probeResourceStore,
  type ResourceStore,
  type ResourceWithStores,
} from './resource-store.js';
import { captureFrame, frameOfSnapshot, type Snapshot } from './snapshot.js';
import { bindVariable, lookupVariable } from './variable-map.js';

// Read once: the ALS instance never changes for the life of the process.
const als = runtime.als;

// Where Node 20 and 22 keep the active frame (see resource-store.ts): probed on the first entry,
// so that importing dcontext/async-context enables nothing; null where `als.run` must do it.
let resourceStore: ResourceStore | null | undefined;

/** The resource store when entries can be made directly (checked on each entry), else null. */
function directStore(): ResourceStore | null {
  if (resourceStore === undefined) resourceStore = probeResourceStore(als, runtime.root);
  return resourceStore !== null && isEnabled(als) ? resourceStore : null;
}

/** Calls `fn(...args)` in a child frame of the active one with `variable` bound to `value`. */
export function runWithVariable<A extends unknown[], R>(
  variable: object,
  value: unknown,
  fn: (...args: A) => R,
  args: A,
): R {
  const store = directStore();
  if (store !== null) {
    // One resource lookup serves both the parent read and the entry.
    const resource = store.current();
    const previous = resource[store.key];
    const frame = boundChild(previous ?? runtime.syncCurrent, variable, value);
    return callEntered(resource, store.key, previous, frame, fn, args);
  }
  return runIn(boundChild(als.getStore() ?? runtime.syncCurrent, variable, value), fn, args);
}

/** A child frame of `parent` with `variable` bound to `value`. */
function boundChild(parent: Frame, variable: object, value: unknown): Frame {
  return unnamedChildFrame(parent, parent.foreign, bindVariable(parent.variables, variable, value));
}

/**
 * What Node 20's `als.run(frame, fn, ...args)` does once the active store is known not to be
 * `frame` (see resource-store.ts), with `this` undefined as the proposal specifies.
 */
function callEntered<A extends unknown[], R>(
  resource: ResourceWithStores,
  key: symbol,
  previous: Frame | undefined,
  frame: Frame,
  fn: (...args: A) => R,
  args: A,
): R {
  resource[key] = frame;
  try {
    return args.length === 0 ? (fn as () => R)() : (Reflect.apply(fn, undefined, args) as R);
  } finally {
    resource[key] = previous;
  }
}

/**
 * `fn(...args)` in `frame`, with `this` undefined as the proposal specifies (ALS's own `run`
 * passes null). Without arguments a plain call does it: ~7 ns less than `Reflect.apply` on Node 20.
 */
function runIn<A extends unknown[], R>(frame: Frame, fn: (...args: A) => R, args: A): R {
  return args.length === 0
    ? als.run(frame, invoke, fn as () => R)
    : (als.run(frame, Reflect.apply, fn, undefined, args) as R);
}

function invoke<R>(fn: () => R): R {
  return fn();
}

/**
 * Calls `fn(...args)` in a child frame of the active one with `key` set to `value` (a variable
 * backed by a registered key). Throws what `set` throws, running nothing.
 */
export function runWithKeyValue<A extends unknown[], R>(
  key: KeyRef,
  value: unknown,
  fn: (...args: A) => R,
  args: A,
): R {
  const definition = requireDefinition(key);
  const store = directStore();
  if (store !== null) {
    const resource = store.current();
    const previous = resource[store.key];
    const frame = childFrame(previous ?? runtime.syncCurrent, undefined);
    writeSlot(frame, definition, value);
    return callEntered(resource, store.key, previous, frame, fn, args);
  }
  const frame = childFrame(als.getStore() ?? runtime.syncCurrent, undefined);
  writeSlot(frame, definition, value);
  return runIn(frame, fn, args);
}

/** The value bound to `variable` in the active frame, or `unbound` when it has none. */
export function readVariable(variable: object, unbound: unknown): unknown {
  return lookupVariable((als.getStore() ?? runtime.syncCurrent).variables, variable, unbound);
}

/** The active context (typed keys, scope chain and variables), captured in O(1). */
export function captureActive(): Snapshot {
  return captureFrame(als.getStore() ?? runtime.syncCurrent);
}

/** Calls `fn(...args)` in a new frame holding `snapshot`. */
export function runInSnapshot<A extends unknown[], R>(
  snapshot: Snapshot,
  fn: (...args: A) => R,
  args: A,
): R {
  const frame = frameOfSnapshot(snapshot);
  const store = directStore();
  if (store === null) return runIn(frame, fn, args);
  const resource = store.current();
  return callEntered(resource, store.key, resource[store.key], frame, fn, args);
}

/** Calls `fn` with `thisArg` and `args` in a new frame holding `snapshot`. */
export function applyInSnapshot<T, A extends unknown[], R>(
  snapshot: Snapshot,
  fn: (this: T, ...args: A) => R,
  thisArg: T,
  args: A,
): R {
  return als.run(frameOfSnapshot(snapshot), Reflect.apply, fn, thisArg, args) as R;
}
