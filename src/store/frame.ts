/**
 * The hot path: frames, slot reads and copy-on-write writes. Both stores use only this module to
 * touch values.
 *
 * A frame is one scope. `values` is a dense array with one slot per registered key, so a read is
 * `values[index]`: O(1) whatever the scope depth or the number of keys. Entering a scope shares
 * the parent's array (no copy); the first write in a frame copies it (copy-on-write).
 *
 * Invariant: an array is mutated in place only by a frame with `owned === true`, and such an
 * array is referenced by that frame alone. Whenever an array gets a second reference (a child
 * scope, a snapshot), the source frame's `owned` is cleared so its next write copies.
 * `undefined` in a slot means "not set".
 */
import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import type { KeyDefinition } from '../registry/types.js';
import { DeferredValue } from './deferred.js';
import type { ChainNode } from './scope-chain.js';
import { appendToChain } from './scope-chain.js';

/** Entries that arrived from the wire for keys this process cannot decode; forwarded as they are. */
export interface OpaqueEntry {
  readonly name: string;
  readonly version: number;
  /** The entry exactly as it was on the wire, re-emitted unchanged. */
  readonly raw: Uint8Array;
  /** Why it stays opaque: the key is not registered here, its version is newer, or its codec tag is unknown. */
  readonly reason: 'unknown-key' | 'newer-version' | 'unknown-codec';
}

export interface Frame {
  values: unknown[];
  owned: boolean;
  readonly chain: ChainNode | null;
  readonly opaque: readonly OpaqueEntry[] | null;
  readonly isRoot: boolean;
}

/** A new child frame of `parent`, sharing its values until either writes. */
export function childFrame(parent: Frame, name: string | undefined): Frame {
  parent.owned = false;
  return {
    values: parent.values,
    owned: false,
    chain: name === undefined ? parent.chain : appendToChain(parent.chain, name),
    opaque: parent.opaque,
    isRoot: false,
  };
}

/** A new frame over captured state (a snapshot), sized to the current registry. */
export function frameFrom(
  values: unknown[],
  chain: ChainNode | null,
  opaque: readonly OpaqueEntry[] | null,
): Frame {
  return { values: fitToRegistry(values), owned: false, chain, opaque, isRoot: false };
}

/** `values` padded to one slot per registered key (captured before initialize, or from a smaller registry). */
export function fitToRegistry(values: unknown[]): unknown[] {
  const size = runtime.registry?.size ?? values.length;
  if (values.length === size) return values;
  const fitted = new Array<unknown>(size).fill(undefined);
  for (let i = 0; i < Math.min(size, values.length); i++) fitted[i] = values[i];
  return fitted;
}

/** The raw value in slot `index` (decoding a deferred entry on first read), or undefined. */
export function readSlot(values: unknown[], index: number): unknown {
  const value = values[index];
  if (typeof value === 'object' && value !== null && value instanceof DeferredValue) {
    const resolved = value.resolve();
    values[index] = resolved;
    return resolved;
  }
  return value;
}

/** The value of `definition` in `values`, or its default when unset. */
export function readValue(values: unknown[], definition: KeyDefinition): unknown {
  const value = readSlot(values, definition.index);
  if (value !== undefined) return value;
  return definition.defaultValue === undefined ? undefined : definition.defaultValue();
}

/** Checks `value` against the key's `validate` predicate; throws `TYPE_MISMATCH` on failure. */
export function validateValue(definition: KeyDefinition, value: unknown): void {
  const validate = definition.validate;
  if (validate === undefined || value === undefined) return;
  let valid: boolean;
  let cause: unknown;
  try {
    valid = validate(value);
  } catch (error) {
    // A predicate that throws on a value of the wrong shape has rejected it.
    valid = false;
    cause = error;
  }
  if (!valid) {
    throw new DContextError(
      'TYPE_MISMATCH',
      `value rejected by the validate() of '${definition.name}'; pass a value of the type the key was registered with`,
      definition.name,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** Writes `value` (undefined clears the slot) into `frame`, copying its values first if shared. */
export function writeSlot(frame: Frame, definition: KeyDefinition, value: unknown): void {
  if (frame.isRoot) {
    throw new DContextError(
      'NO_ACTIVE_SCOPE',
      `cannot write '${definition.name}' outside a scope: the root context is read-only; wrap the work in scope(...)`,
      definition.name,
    );
  }
  validateValue(definition, value);
  if (!frame.owned) {
    frame.values = frame.values.slice();
    frame.owned = true;
  }
  frame.values[definition.index] = value;
}
