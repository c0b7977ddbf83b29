/**
 * Writes plain JSON-like values (null, booleans, numbers, strings, arrays, plain objects) as
 * MessagePack straight into the writer, byte for byte what @msgpack/msgpack's encoder writes
 * for them (a property test holds it to that). Typical context values are such plain data, and
 * skipping the general encoder's setup halves the cost of `serialize`. Anything else (a Date, a
 * typed array, a class instance, a bigint, too deep a value) returns false, and the caller
 * rewinds and uses the general encoder, which also produces its errors.
 */
import type { ByteWriter } from './writer.js';

/** Writes `value` if it is plain data within `depth` levels; false (partial output) if not. */
export function writePlain(writer: ByteWriter, value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      writer.str(value);
      return true;
    case 'boolean':
      writer.u8(value ? 0xc3 : 0xc2);
      return true;
    case 'number':
      if (!Number.isSafeInteger(value)) writer.f64(value);
      else if (value >= 0) writer.uint(value);
      else if (value >= -0x80000000) writer.negativeInt(value);
      else return false;
      return true;
    case 'undefined':
      writer.u8(0xc0);
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) {
    writer.u8(0xc0);
    return true;
  }
  if (depth <= 1) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    writer.arrayHeader(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!writePlain(writer, value[i], depth - 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  writer.mapHeader(keys.length);
  for (const key of keys) {
    if (key === '__proto__') return false;
    writer.str(key);
    if (!writePlain(writer, object[key], depth - 1)) return false;
  }
  return true;
}
