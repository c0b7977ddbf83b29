/**
 * Telling an object that did not change from one that did, without encoding it: a base entry of
 * plain data is decoded back once into a *shadow*, and a value equal to it as plain data encodes
 * to the same bytes (so a delta can leave it out).
 */
import { DEFAULT_WIRE_LIMITS } from '../wire/limits.js';
import { parseEntry } from '../wire/parse.js';
import { decodePlain, NOT_PLAIN } from '../wire/plain-decoder.js';
import type { SentBase } from './sent-base.js';

/** A slot with no shadow: its value is not an object of a MessagePack key. */
export const NO_SHADOW: unique symbol = Symbol('no shadow');
/** A slot whose shadow is made when first compared against. */
export const SHADOW_NOT_MADE: unique symbol = Symbol('shadow not made yet');

/** The shadow of the base's entry for slot `index` (see `SentBase.shadows`). */
export function shadowOf(from: SentBase, index: number): Shadow | typeof NO_SHADOW {
  const raw = from.bytes.subarray(from.starts[index], from.ends[index]);
  const entry = parseEntry(raw, DEFAULT_WIRE_LIMITS);
  const decoded = decodePlain(raw, entry.payload, entry.end);
  return decoded === NOT_PLAIN ? NO_SHADOW : toShadow(decoded);
}

/**
 * Plain data decoded back from an entry, in the form {@link matches} compares against (a value
 * equal to it as plain data encodes to the same bytes): primitives as they are, an array as an
 * array of shadows, a map as its keys and the shadows of its values. Told apart without
 * `instanceof`, which is slow on a class whose `name` a bundler redefined (tsx does).
 */
export type Shadow = string | number | boolean | null | Shadow[] | ShadowRecord;

interface ShadowRecord {
  readonly keys: readonly string[];
  readonly values: readonly Shadow[];
}

/** `decoded` (plain data from `decodePlain`) as a {@link Shadow}. */
function toShadow(decoded: unknown): Shadow {
  if (typeof decoded !== 'object' || decoded === null) return decoded as Shadow;
  if (Array.isArray(decoded)) return decoded.map(toShadow);
  const keys = Object.keys(decoded);
  return { keys, values: keys.map((key) => toShadow((decoded as Record<string, unknown>)[key])) };
}

/**
 * Whether `value` is plain data equal to `shadow`: then both encode to the same bytes. Plain
 * objects compare their keys in order (an enumerable key inherited from a polluted
 * `Object.prototype` makes them differ: a false "changed" only costs a few bytes), arrays their
 * elements, primitives with `===` (-0 and 0 encode the same; NaN never matches, nor does the
 * undefined that encodes as null).
 */
export function matches(value: unknown, shadow: Shadow): boolean {
  if (typeof shadow !== 'object' || shadow === null) return value === shadow;
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(shadow)) {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return false;
    const length = shadow.length;
    if (value.length !== length) return false;
    for (let i = 0; i < length; i++) if (!matches(value[i], shadow[i]!)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const { keys, values } = shadow;
  let i = 0;
  for (const key in value) {
    if (key !== keys[i] || !matches((value as Record<string, unknown>)[key], values[i]!)) {
      return false;
    }
    i++;
  }
  return i === keys.length;
}
