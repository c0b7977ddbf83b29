/**
 * The door through which an integration reads and enters a frame's foreign context (see
 * `Frame.foreign`): the context of another system (OpenTelemetry's, for `dcontext/otel`) that
 * lives in dcontext's frames, so one AsyncLocalStorage serves both. The core never looks inside
 * it. Not part of the public `dcontext` surface.
 */
import { type ForeignBridge, runtime } from '../internal/runtime.js';
import { unnamedChildFrame } from './frame.js';
import { frameOfSnapshotWith, type Snapshot } from './snapshot.js';

// Read once: the ALS instance never changes for the life of the process.
const als = runtime.als;

/** The foreign context of the active async scope (of the thread's root outside any), or null. */
export function activeForeign(): unknown {
  return (als.getStore() ?? runtime.root).foreign;
}

/**
 * Calls `fn` with `thisArg` and `args` in a new unnamed child scope of the active one (values
 * shared until either writes, as `scope` does) that carries `foreign`.
 */
export function runWithForeign<A extends unknown[], R>(
  foreign: unknown,
  fn: (this: unknown, ...args: A) => R,
  thisArg: unknown,
  args: A,
): R {
  const parent = als.getStore() ?? runtime.root;
  const frame = unnamedChildFrame(parent, foreign, parent.variables);
  return als.run(frame, () => fn.apply(thisArg, args));
}

/**
 * Calls `fn` with `thisArg` and `args` in a new scope holding `snapshot`'s values and scope chain
 * (as `withContext` does) that carries `foreign` instead of the snapshot's.
 */
export function runInSnapshotWithForeign<A extends unknown[], R>(
  snapshot: Snapshot,
  foreign: unknown,
  fn: (this: unknown, ...args: A) => R,
  thisArg: unknown,
  args: A,
): R {
  const frame = frameOfSnapshotWith(snapshot, foreign);
  return als.run(frame, () => fn.apply(thisArg, args));
}

/**
 * Installs how foreign contexts cross into other threads (see `ForeignBridge`) unless one is
 * installed already; returns the one in force.
 */
export function installForeignBridge(bridge: ForeignBridge): ForeignBridge {
  runtime.foreignBridge ??= bridge;
  return runtime.foreignBridge;
}

export type { ForeignBridge };
