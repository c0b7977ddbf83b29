/**
 * Decodes the short strings of the framing (key and scope names). The same few names arrive in
 * every message, so they are interned: a hash of the bytes finds the string decoded last time,
 * which also carries V8's cached hash into the registry's Map lookup. The cache is a fixed
 * direct-mapped table, so hostile input that sends ever-new names only costs the misses.
 */
import { runtime } from '../internal/runtime.js';
import { readUtf8 } from './bytes.js';

/** Longer names are decoded each time. */
const MAX_CACHED_LENGTH = 48;
/** Slots of the direct-mapped cache (a power of two); a colliding name replaces the older one. */
const CACHE_SLOTS = 1024;

interface Interned {
  readonly bytes: Uint8Array;
  readonly text: string;
}

const interned = new Array<Interned | undefined>(CACHE_SLOTS).fill(undefined);

function sameBytes(a: Uint8Array, b: Uint8Array, start: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/**
 * The names read at each place of the last message (its `n`-th framing string, `n` below
 * {@link RECENT_PLACES}): a sender writes the same keys in the same order every time, so the
 * name at the same place is tried first, before hashing (a byte compare either way).
 */
const RECENT_PLACES = 64;
const recent = new Array<Interned | undefined>(RECENT_PLACES).fill(undefined);

/**
 * The UTF-8 string in `bytes[start, end)`, or `undefined` when it is not valid UTF-8. `place`:
 * which string of its message this is (0 for the first), or -1.
 */
export function decodeName(
  bytes: Uint8Array,
  start: number,
  end: number,
  place = -1,
): string | undefined {
  const length = end - start;
  if (length > MAX_CACHED_LENGTH) return readUtf8(bytes, start, end);
  const remembered = place >= 0 && place < RECENT_PLACES;
  if (remembered) {
    const last = recent[place];
    if (last !== undefined && last.bytes.length === length && sameBytes(last.bytes, bytes, start)) {
      return last.text;
    }
  }
  let hash = 0x811c9dc5 ^ length;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  const slot = hash & (CACHE_SLOTS - 1);
  let hit = interned[slot];
  if (hit === undefined || hit.bytes.length !== length || !sameBytes(hit.bytes, bytes, start)) {
    const text = readUtf8(bytes, start, end);
    if (text === undefined) return undefined;
    hit = { bytes: bytes.slice(start, end), text: registeredName(text) };
    interned[slot] = hit;
  }
  if (remembered) recent[place] = hit;
  return hit.text;
}

/**
 * The registry's own string for a registered key's name (the same characters): the registry's
 * byName Map and an accept Set built from the key names then match it by pointer instead of
 * calling V8's StringEqual per lookup (~45 instructions each, 2-4 per entry). Paid once per cache
 * miss, as one Map lookup: internalizing every new name instead (a property key) measured 3-8 µs
 * a name, which hostile input sending ever-new names would pay on every entry.
 */
function registeredName(text: string): string {
  return runtime.registry?.byName(text)?.name ?? text;
}
