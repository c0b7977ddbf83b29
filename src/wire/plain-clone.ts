/**
 * Values that structured clone carries exactly as the wire format would: what a receiver gets
 * by cloning equals what it would decode from the MessagePack entry. Such values can cross
 * threads by structured clone, without being encoded or decoded (see `decodeOverlay`).
 */
import { types } from 'node:util';

/** Containers nested deeper than this are left to the wire format (its limit is 32). */
const MAX_DEPTH = 16;
/** Longer strings are left to the wire format (so they stay under its 65 536-byte limit). */
const MAX_STRING = 16 * 1024;
/** Larger arrays and maps are left to the wire format (its limit is 65 536). */
const MAX_COLLECTION = 16 * 1024;

/**
 * An upper bound of the MessagePack size of `value` when it is plain data that structured clone
 * and the wire format carry alike; -1 when it is not. Plain data here: null, booleans, numbers
 * other than -0 and integers below -2^31, well-formed strings, arrays without holes or other
 * properties, and plain objects (no `__proto__` key), within conservative depth and size
 * bounds. Anything else, such as undefined (written as nil) or a Date, travels in the wire
 * format.
 *
 * `sender` checks what the sending side must (a proxy, an array with other properties: clone
 * and encoding would differ); a receiver needs only the shape and the bound.
 */
export function plainBound(value: unknown, sender: boolean, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return value.length <= MAX_STRING && (value as unknown as WellFormed).isWellFormed()
        ? value.length * 3 + 5
        : -1;
    case 'boolean':
      return 1;
    case 'number':
      return Object.is(value, -0) || (Number.isSafeInteger(value) && value < -0x80000000) ? -1 : 9;
    case 'object':
      break;
    default:
      return -1;
  }
  if (value === null) return 1;
  if (depth >= MAX_DEPTH || (sender && types.isProxy(value))) return -1;
  let bound = 5;
  if (Array.isArray(value)) {
    const length = value.length;
    if (Object.getPrototypeOf(value) !== Array.prototype || length > MAX_COLLECTION) return -1;
    for (let i = 0; i < length; i++) {
      const item = plainBound(value[i], sender, depth + 1);
      if (item < 0) return -1;
      bound += item;
    }
    // Holes read as undefined and fail above; other own properties would be cloned, not encoded.
    return !sender || Object.keys(value).length === length ? bound : -1;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return -1;
  const keys = Object.keys(value);
  if (keys.length > MAX_COLLECTION) return -1;
  for (const key of keys) {
    if (key === '__proto__' || key.length > MAX_STRING) return -1;
    if (!(key as unknown as WellFormed).isWellFormed()) return -1;
    const item = plainBound((value as Record<string, unknown>)[key], sender, depth + 1);
    if (item < 0) return -1;
    bound += key.length * 3 + 5 + item;
  }
  return bound;
}

interface WellFormed {
  isWellFormed(): boolean;
}
