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
 * `undefined` in a slot means "not set" - unless the entry waits undecoded from the wire:
 *
 * Deferred entries (`DeferredValue`, e.g. a `WireValue`) never sit in a slot, so a read that
 * finds a value returns it with no further check. An array holding any has twice the length:
 * slot `i` stays `undefined` and `values[size + i]` holds the entry (`size` being the registry's
 * size). The first read decodes it into slot `i` and clears `size + i`, in place: every frame and
 * snapshot sharing the array means the same value. A write to slot `i` clears `size + i` too.
 * Code outside the stores sees a slot through {@link entryAt} / {@link putEntry} only.
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

/** The registry's size: the offset of deferred entries in an array that has them. */
function slotCount(): number {
  return runtime.registry?.size ?? 0;
}

/** `values` sized to the current registry (captured before initialize, or from another registry). */
export function fitToRegistry(values: unknown[]): unknown[] {
  const size = slotCount();
  if (values.length === size || values.length === 2 * size) return values;
  const fitted = emptySlots(size);
  for (let i = 0; i < Math.min(size, values.length); i++) fitted[i] = values[i];
  return fitted;
}

/** A new slot array with every slot unset. (A loop: `fill` measured ~1.8x slower at 10 slots.) */
export function emptySlots(size: number): unknown[] {
  const values = new Array<unknown>(size);
  for (let i = 0; i < size; i++) values[i] = undefined;
  return values;
}

/**
 * The entry in slot `index` as held: its value, a `DeferredValue` not decoded yet, or undefined.
 * Decodes nothing (so a serializer can forward an entry as it arrived).
 */
export function entryAt(values: unknown[], index: number): unknown {
  const value = values[index];
  if (value !== undefined) return value;
  const size = slotCount();
  return values.length > size ? values[size + index] : undefined;
}

/**
 * Puts `entry` (a value, a `DeferredValue`, or undefined to unset) into slot `index`, in place:
 * for arrays their builder owns (decoding, a copy being filled in).
 */
export function putEntry(values: unknown[], index: number, entry: unknown): void {
  if (typeof entry === 'object' && entry !== null && entry instanceof DeferredValue) {
    putDeferred(values, index, entry);
    return;
  }
  values[index] = entry;
  const size = slotCount();
  if (values.length > size) values[size + index] = undefined;
}

/** {@link putEntry} of an entry known to be deferred (skips the `instanceof`). */
export function putDeferred(values: unknown[], index: number, entry: DeferredValue): void {
  const size = slotCount();
  if (values.length === size) for (let i = 0; i < size; i++) values.push(undefined);
  values[index] = undefined;
  values[size + index] = entry;
}

/** The raw value in slot `index` (decoding a deferred entry on first read), or undefined. */
export function readSlot(values: unknown[], index: number): unknown {
  const value = values[index];
  if (value !== undefined) return value;
  const size = slotCount();
  if (values.length <= size) return undefined;
  const deferred = values[size + index];
  if (!(deferred instanceof DeferredValue)) return undefined;
  const resolved = deferred.resolve();
  values[index] = resolved;
  values[size + index] = undefined;
  return resolved;
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

/**
 * The `NO_ACTIVE_SCOPE` error for a write to the read-only root `frame`, saying which store was
 * written and what to use instead: the common mistake is writing through one store while only the
 * other has a scope open.
 */
function noActiveScope(frame: Frame, name: string): DContextError {
  const asyncOpen = runtime.als.getStore() !== undefined;
  const syncOpen = !runtime.syncCurrent.isRoot;
  let message: string;
  if (asyncOpen && frame === runtime.syncCurrent) {
    message = `cannot write '${name}' through syncCtx: no sync scope is open here, but an async scope is (scope() / asyncCtx.scope()); write with set() or asyncCtx.set(), or open a sync scope with syncCtx.scope() / syncCtx.enterScope()`;
  } else if (syncOpen && !asyncOpen) {
    message = `cannot write '${name}' through asyncCtx: no async scope is open here, but a sync scope is (syncCtx.scope() / enterScope()); write with set() or syncCtx.set(), or open an async scope with scope()`;
  } else {
    message = `cannot write '${name}' outside any scope: the root context is read-only; run the work in scope(...) (or syncCtx.scope(...) for synchronous code)`;
  }
  return new DContextError('NO_ACTIVE_SCOPE', message, name);
}

/** Writes `value` (undefined clears the slot) into `frame`, copying its values first if shared. */
export function writeSlot(frame: Frame, definition: KeyDefinition, value: unknown): void {
  if (frame.isRoot) throw noActiveScope(frame, definition.name);
  validateValue(definition, value);
  if (!frame.owned) {
    frame.values = frame.values.slice();
    frame.owned = true;
  }
  const values = frame.values;
  values[definition.index] = value;
  // A deferred entry the write replaces must not come back when the key is deleted later.
  const size = slotCount();
  if (values.length > size) values[size + definition.index] = undefined;
}
