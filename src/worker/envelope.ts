/**
 * The shape a message or a pool task takes when it carries context: the user's payload, untouched,
 * next to the context in transferable form, in one flat object (every nested object is one more
 * for structured clone to walk on each side). A string tag marks it (symbols do not survive
 * structured clone); anything without the tag is a plain message and passes through as it is.
 */
import type { Snapshot } from '../store/snapshot.js';
import { type ContextTransfer, fromTransfer, isTransfer, toTransfer } from './transfer.js';

const TAG = '@@dcontext';

/** A payload with the sender's context. */
export interface ContextEnvelope extends ContextTransfer {
  readonly [TAG]: 1;
  readonly payload: unknown;
}

/** Wraps `payload` with `snapshot` (throws `NOT_CLONEABLE` before anything is sent). */
export function wrap(snapshot: Snapshot, payload: unknown): ContextEnvelope {
  const { wire, local } = toTransfer(snapshot);
  return { [TAG]: 1, wire, local, payload };
}

/** The context and payload in `data`, or undefined for a plain message. */
export function unwrap(data: unknown): { snapshot: Snapshot; payload: unknown } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const envelope = data as Partial<ContextEnvelope>;
  if (envelope[TAG] !== 1 || !isTransfer(envelope)) return undefined;
  return { snapshot: fromTransfer(envelope), payload: (data as ContextEnvelope).payload };
}
