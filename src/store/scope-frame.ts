/**
 * Frames built ahead of running code in them, for APIs that hand a store value to someone else
 * to run (diagnostics_channel's `bindStore`), where `scope()` cannot wrap the call. Each is a
 * child of the active frame (or of a snapshot), complete before it is returned: on bad input it
 * throws and nothing is built.
 */
import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry, describeValue, requireDefinition } from '../registry/registry.js';
import { childFrame, writeSlot } from './frame.js';
import type { Frame } from './frame-shape.js';
import { frameOfSnapshot, type Snapshot } from './snapshot.js';

/**
 * A child frame of the active one (named `name` when given) holding `values`, keyed by key
 * name (`undefined` unsets). Throws `NOT_REGISTERED`, `TYPE_MISMATCH`, `INVALID_ARGUMENT`.
 */
export function childFrameWith(
  name: string | undefined,
  values: Readonly<Record<string, unknown>> | null | undefined,
): Frame {
  const frame = childFrame(runtime.als.getStore() ?? runtime.syncCurrent, name);
  if (values === null || values === undefined) return frame;
  if (!isPlainObject(values)) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `expected a plain object of values keyed by key name, or a Snapshot, got ${describeValue(values)}${
        typeof (values as { then?: unknown } | null)?.then === 'function'
          ? ' (a promise: the transform must return its values synchronously, not be async)'
          : ''
      }`,
    );
  }
  currentRegistry();
  for (const keyName of Object.keys(values)) {
    writeSlot(frame, requireDefinition(keyName), values[keyName]);
  }
  return frame;
}

/**
 * An object literal or `Object.create(null)`: the only shapes whose own keys are the values. A
 * promise (an async transform), a Map or a class instance would otherwise set nothing, silently.
 */
function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/** A frame holding `snapshot`'s context, as a child scope named `name` when given. */
export function childFrameOfSnapshot(snapshot: Snapshot, name: string | undefined): Frame {
  const frame = frameOfSnapshot(snapshot);
  return name === undefined ? frame : childFrame(frame, name);
}
