/**
 * Plain data: values that structured clone carries exactly as the wire format would, so that
 * what a receiver gets by cloning equals what it would decode from the MessagePack entry. Such
 * values of a delta cross threads by structured clone, not encoded (see delta.ts and
 * apply-delta.ts). The sender copies them ({@link copyPlainData}); the receiver checks their
 * shape and size ({@link plainDataSize}).
 */
import { types } from 'node:util';

/** Containers nested deeper than this are left to the wire format (its limit is 32). */
const MAX_DEPTH = 16;
/** Longer strings are left to the wire format (so they stay under its 65 536-byte limit). */
const MAX_STRING = 16 * 1024;
/** Larger arrays and maps are left to the wire format (its limit is 65 536). */
const MAX_COLLECTION = 16 * 1024;

/** An upper bound on the MessagePack size of `text` (UTF-8: at most 3 bytes a UTF-16 unit, + header). */
export function stringBound(text: string): number {
  return text.length * 3 + 5;
}

/** An upper bound on the wire size of an entry: its name, its header (<= 9 bytes) and its value. */
export function entryBound(name: string, valueBound: number): number {
  return stringBound(name) + 9 + valueBound;
}

/**
 * An upper bound of the MessagePack size of `value` when it is plain data that structured clone
 * and the wire format carry alike; -1 when it is not. Plain data here: null, booleans, numbers
 * other than -0 and integers below -2^31, well-formed strings, arrays without holes, and plain
 * objects (no `__proto__` key), within conservative depth and size bounds. Anything else, such
 * as undefined (written as nil) or a Date, travels in the wire format. What a receiver checks of
 * a value that arrived by structured clone (the sender's side is {@link copyPlainData}).
 */
export function plainDataSize(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return plainString(value) ? stringBound(value) : -1;
    case 'boolean':
      return 1;
    case 'number':
      return plainNumber(value) ? 9 : -1;
    case 'object':
      break;
    default:
      return -1;
  }
  if (value === null) return 1;
  if (depth >= MAX_DEPTH) return -1;
  let bound = 5;
  if (Array.isArray(value)) {
    const length = value.length;
    if (Object.getPrototypeOf(value) !== Array.prototype || length > MAX_COLLECTION) return -1;
    for (let i = 0; i < length; i++) {
      const item = plainDataSize(value[i], depth + 1);
      if (item < 0) return -1;
      bound += item;
    }
    return bound;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return -1;
  const keys = Object.keys(value);
  if (keys.length > MAX_COLLECTION) return -1;
  for (const key of keys) {
    if (!plainKey(key)) return -1;
    const item = plainDataSize((value as Record<string, unknown>)[key], depth + 1);
    if (item < 0) return -1;
    bound += stringBound(key) + item;
  }
  return bound;
}

/** What {@link copyPlainData} returns for a value that is not plain data. */
export const NOT_PLAIN_DATA: unique symbol = Symbol('not plain data');

let copied = 0;

/**
 * A copy of `value`, taken now, when it is plain data (as {@link plainDataSize} defines it) that
 * structured clone would carry as the wire format does; `NOT_PLAIN_DATA` when it is not. The
 * sender's side: it also refuses what only the sender can see (a proxy, an array with other
 * properties, which clone and encoding would treat differently). After a copy,
 * {@link copiedSize} is an upper bound of its MessagePack size. Copied rather than sent by
 * reference because a pool may clone a task only when a worker is free: an in-place change made
 * after the task was submitted must not reach it.
 */
export function copyPlainData(value: unknown): unknown {
  copied = 0;
  return copyPlain(value, 0);
}

/** The size bound of the value {@link copyPlainData} copied last. */
export function copiedSize(): number {
  return copied;
}

function copyPlain(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      if (!plainString(value)) return NOT_PLAIN_DATA;
      copied += stringBound(value);
      return value;
    case 'boolean':
      copied += 1;
      return value;
    case 'number':
      if (!plainNumber(value)) return NOT_PLAIN_DATA;
      copied += 9;
      return value;
    case 'object':
      break;
    default:
      return NOT_PLAIN_DATA;
  }
  if (value === null) {
    copied += 1;
    return null;
  }
  if (depth >= MAX_DEPTH || types.isProxy(value)) return NOT_PLAIN_DATA;
  copied += 5;
  if (Array.isArray(value)) {
    const length = value.length;
    if (Object.getPrototypeOf(value) !== Array.prototype || length > MAX_COLLECTION) {
      return NOT_PLAIN_DATA;
    }
    const copy = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const item = copyPlain(value[i], depth + 1);
      if (item === NOT_PLAIN_DATA) return NOT_PLAIN_DATA;
      copy[i] = item;
    }
    // Holes read as undefined and fail above; other own properties would be cloned, not encoded.
    return Object.keys(value).length === length ? copy : NOT_PLAIN_DATA;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN_DATA;
  const keys = Object.keys(value);
  if (keys.length > MAX_COLLECTION) return NOT_PLAIN_DATA;
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    if (!plainKey(key)) return NOT_PLAIN_DATA;
    const item = copyPlain((value as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_PLAIN_DATA) return NOT_PLAIN_DATA;
    copy[key] = item; // never '__proto__' (refused above)
    copied += stringBound(key);
  }
  return copy;
}

function plainString(value: string): boolean {
  return value.length <= MAX_STRING && (value as unknown as WellFormed).isWellFormed();
}

/** -0 and integers below -2^31 encode differently from what structured clone carries. */
function plainNumber(value: number): boolean {
  return !Object.is(value, -0) && !(Number.isSafeInteger(value) && value < -0x80000000);
}

function plainKey(key: string): boolean {
  return (
    key !== '__proto__' && key.length <= MAX_STRING && (key as unknown as WellFormed).isWellFormed()
  );
}

interface WellFormed {
  isWellFormed(): boolean;
}
