/**
 * The shape a message or a pool task takes when it carries context: the user's payload, untouched,
 * next to the context in transferable form, in one flat array `[TAG, payload, wire, local]`,
 * followed for a context sent as a delta by `chain, changes, ...plain` (see `ContextTransfer`).
 * Flat, because every nested object or array is one more for structured clone to walk on each
 * side, and an array's elements cost less to clone than an object's named properties. A string
 * tag marks it (symbols do not survive structured clone); anything else is a plain message and
 * passes through as it is.
 */
import type { Snapshot } from '../store/snapshot.js';
import { type LocalEntries, snapshotOf, toTransfer } from '../thread/transfer.js';

const TAG = '@@dcontext';
/**
 * The tag of a pool task sent while its pool is not yet known to run a wrapped task function:
 * `withTaskContext` marks the result of such a task (see pool.ts).
 */
export const CHECKED_TASK_TAG = '@@dcontext:checked';

/** A payload with the sender's context. */
export type ContextEnvelope = readonly unknown[];

/**
 * Wraps `payload` with `snapshot` (throws `NOT_CLONEABLE` before anything is sent); `tag` is
 * {@link CHECKED_TASK_TAG} for a pool task whose result must come back marked.
 */
export function wrap(snapshot: Snapshot, payload: unknown, tag: string = TAG): ContextEnvelope {
  const { wire, delta, local } = toTransfer(snapshot);
  if (delta === undefined || delta === null) return [tag, payload, wire, local];
  const envelope: unknown[] = [tag, payload, wire, local];
  for (const item of delta) envelope.push(item);
  return envelope;
}

/** The context and payload in `data`, or undefined for a plain message. */
export function unwrap(data: unknown): { snapshot: Snapshot; payload: unknown } | undefined {
  const snapshot = contextOf(data);
  return snapshot === undefined ? undefined : { snapshot, payload: (data as unknown[])[1] };
}

/** The context in `data`, or undefined for a plain message; its payload is then `data[1]`. */
export function contextOf(data: unknown): Snapshot | undefined {
  if (!Array.isArray(data) || (data[0] !== TAG && data[0] !== CHECKED_TASK_TAG)) return undefined;
  const length = data.length;
  const wire: unknown = data[2];
  const local: unknown = data[3];
  if (
    typeof wire !== 'string' ||
    (local !== null && !Array.isArray(local)) ||
    (length !== 4 && (length < 6 || (length - 6) % 3 !== 0))
  ) {
    return undefined;
  }
  return snapshotOf(wire, length === 4 ? null : data, local as LocalEntries | null, 4);
}
