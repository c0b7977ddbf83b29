/**
 * The layout of a slot array. Slot `i` holds key `i`'s value, `undefined` meaning unset. Entries
 * that wait undecoded from the wire (`DeferredValue`) never sit in a slot, so the hot read
 * returns whatever it finds there: an array holding any has twice the registry's size, slot `i`
 * stays `undefined` and `values[size + i]` holds the entry. The first read decodes it into slot
 * `i` and clears `size + i`, in place (every frame and snapshot sharing the array means the same
 * value). Code outside the store sees a slot through {@link entryAt} / {@link putEntry} only.
 */
import { runtime } from '../internal/runtime.js';
import { DeferredValue } from './deferred.js';

/** The registry's size: the offset of deferred entries in an array that has them. */
export function slotCount(): number {
  return runtime.registry?.size ?? 0;
}

/** A new slot array with every slot unset. (A loop: `fill` measured ~1.8x slower at 10 slots.) */
export function emptySlots(size: number): unknown[] {
  const values = new Array<unknown>(size);
  for (let i = 0; i < size; i++) values[i] = undefined;
  return values;
}

/** `values` sized to the current registry (captured before initialize, or from another registry). */
export function fitToRegistry(values: unknown[]): unknown[] {
  const size = slotCount();
  if (values.length === size || values.length === 2 * size) return values;
  const fitted = emptySlots(size);
  for (let i = 0; i < Math.min(size, values.length); i++) fitted[i] = values[i];
  return fitted;
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
  clearDeferred(values, index);
}

/** {@link putEntry} of an entry known to be deferred (skips the `instanceof`). */
export function putDeferred(values: unknown[], index: number, entry: DeferredValue): void {
  const size = slotCount();
  if (values.length === size) for (let i = 0; i < size; i++) values.push(undefined);
  values[index] = undefined;
  values[size + index] = entry;
}

/** Drops the deferred entry of slot `index`, if any: one a write replaces must not come back. */
export function clearDeferred(values: unknown[], index: number): void {
  const size = slotCount();
  if (values.length > size) values[size + index] = undefined;
}

/** The read of an unset slot `index`: decodes its deferred entry into the slot, or undefined. */
export function readDeferred(values: unknown[], index: number): unknown {
  const size = slotCount();
  if (values.length <= size) return undefined;
  const deferred = values[size + index];
  if (!(deferred instanceof DeferredValue)) return undefined;
  const resolved = deferred.resolve();
  values[index] = resolved;
  values[size + index] = undefined;
  return resolved;
}
