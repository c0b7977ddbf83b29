/**
 * The sending side's base: the last context this thread encoded in full, kept with what a delta
 * against it needs (where each entry lies in the bytes, which slots hold a value that encodes as
 * it is). Contexts sent afterwards go as this base's wire string plus their changes (delta.ts).
 */
import type { Registry } from '../registry/registry.js';
import { DeferredValue } from '../store/deferred.js';
import { entryAt } from '../store/deferred-entries.js';
import { chainToArray } from '../store/scope-chain.js';
import { CHAIN, OPAQUE, type Snapshot, VALUES } from '../store/snapshot.js';
import { toBase64Url } from '../wire/base64url.js';
import { type EncodedLayout, encodeSnapshot } from '../wire/encode.js';
import { NO_SHADOW, SHADOW_NOT_MADE, type Shadow } from './shadow.js';

/** The last context encoded in full: what deltas are computed against. */
export interface SentBase {
  readonly registry: Registry;
  readonly values: unknown[];
  readonly opaque: Snapshot[typeof OPAQUE];
  readonly chain: Snapshot[typeof CHAIN];
  readonly chainNames: readonly string[];
  readonly bytes: Uint8Array;
  readonly wire: string;
  /** Per slot, where its entry lies in `bytes` (`end` 0: no entry). */
  readonly starts: number[];
  readonly ends: number[];
  /** Entries in `bytes`, and their total size. */
  readonly entries: number;
  readonly entryBytes: number;
  /**
   * Per slot holding an object with the MessagePack codec, the value decoded back from `bytes`
   * (`SHADOW_NOT_MADE` until first needed; `NO_SHADOW` for the others): a value equal to it as plain
   * data encodes to the same entry.
   */
  readonly shadows: (Shadow | typeof NO_SHADOW | typeof SHADOW_NOT_MADE)[];
  /** The registry's non-local slots, the ones a delta looks at. */
  readonly slots: readonly number[];
  /**
   * Per slot, 1 when holding the base's value there means holding what it encoded: no entry,
   * or a primitive with a built-in codec.
   */
  readonly sameValueSameEntry: Uint8Array;
}

let lastBase: SentBase | null = null;

/** The base of the deltas this thread sends next, or null before its first send. */
export function lastSentBase(): SentBase | null {
  return lastBase;
}

/** Encodes `snapshot` in full and makes it the base of the deltas that follow. */
export function newSentBase(snapshot: Snapshot, registry: Registry): SentBase {
  const layout: EncodedLayout = { slots: [], entries: 0, start: 0 };
  const bytes = encodeSnapshot(snapshot, layout);
  const starts = new Array<number>(registry.size).fill(0);
  const ends = new Array<number>(registry.size).fill(0);
  const shadows = new Array<Shadow | typeof NO_SHADOW | typeof SHADOW_NOT_MADE>(registry.size).fill(
    NO_SHADOW,
  );
  const definitions = registry.definitions;
  const values = snapshot[VALUES].slice();
  const nonLocal: number[] = [];
  const sameValueSameEntry = new Uint8Array(registry.size);
  for (let i = 0; i < definitions.length; i++) {
    const definition = definitions[i]!;
    if (definition.local) continue;
    nonLocal.push(i);
    const value = entryAt(values, i);
    const primitive = typeof value !== 'object' && typeof value !== 'function';
    if (primitive && typeof definition.codec === 'string') sameValueSameEntry[i] = 1;
  }
  const { slots } = layout;
  for (let i = 0; i < slots.length; i += 3) {
    const slot = slots[i]!;
    starts[slot] = slots[i + 1]!;
    ends[slot] = slots[i + 2]!;
    const value = entryAt(values, slot);
    if (
      typeof value === 'object' &&
      value !== null &&
      !(value instanceof DeferredValue) &&
      definitions[slot]!.codec === 'msgpack'
    ) {
      shadows[slot] = SHADOW_NOT_MADE; // made when first compared against
    }
  }
  lastBase = {
    registry,
    // A copy: reads memoize decoded entries into the slot array, and the base must keep what it
    // encoded (an entry forwarded as it arrived is still the `WireValue` that was copied).
    values,
    opaque: snapshot[OPAQUE],
    chain: snapshot[CHAIN],
    chainNames: chainToArray(snapshot[CHAIN]),
    bytes,
    wire: toBase64Url(bytes),
    starts,
    ends,
    entries: layout.entries,
    entryBytes: bytes.length - layout.start,
    shadows,
    slots: nonLocal,
    sameValueSameEntry,
  };
  return lastBase;
}
