import { ExtData } from '@msgpack/msgpack';
import type { DebugValue } from './types.js';

/** Deeper structures are cut off in debug views (also guards against cycles and deep recursion). */
const MAX_DEBUG_DEPTH = 64;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * A JSON-compatible rendering of any value, for reading: dates as ISO strings, bigints as
 * `"12n"`, binary as `{ $binary: hex }`, Map and Set as `{ $map: [[k, v]…] }` / `{ $set: […] }`,
 * cycles as `"[Circular]"`. Lossy by design; never throws.
 */
export function toDebugValue(value: unknown, seen: object[] = [], depth = 0): DebugValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      break;
    default:
      return String(value);
  }
  const object = value as object;
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  }
  if (object instanceof RegExp) return String(object);
  if (object instanceof Uint8Array) return { $binary: hex(object) };
  if (object instanceof ExtData) {
    return { $ext: object.type, data: object.data instanceof Uint8Array ? hex(object.data) : '' };
  }
  if (seen.includes(object)) return '[Circular]';
  if (depth >= MAX_DEBUG_DEPTH) return '[Too deep]';
  seen.push(object);
  try {
    const child = (item: unknown): DebugValue => toDebugValue(item, seen, depth + 1);
    if (Array.isArray(object)) return object.map(child);
    if (object instanceof Map) return { $map: [...object].map(([k, v]) => [child(k), child(v)]) };
    if (object instanceof Set) return { $set: [...object].map(child) };
    if (object instanceof Error) return { $error: object.message };
    const result: Record<string, DebugValue> = {};
    for (const key of Object.keys(object)) {
      const item = (object as Record<string, unknown>)[key];
      if (item === undefined) continue;
      // defineProperty: a '__proto__' key must stay a plain key of this one object.
      Object.defineProperty(result, key, {
        value: child(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  } catch {
    return '[Unreadable]';
  } finally {
    seen.pop();
  }
}
