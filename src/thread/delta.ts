/**
 * The sending side of a delta: what a context changed from the last one sent in full (its scope
 * chain if it differs, the keys whose values differ), or undefined when a full encoding is due.
 */
import type { Registry } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import { DeferredValue } from '../store/deferred.js';
import { emptySlots, entryAt, putEntry } from '../store/deferred-entries.js';
import { readSlot } from '../store/frame.js';
import { chainToArray } from '../store/scope-chain.js';
import { CHAIN, OPAQUE, Snapshot, VALUES } from '../store/snapshot.js';
import { codecTag, writePayload } from '../wire/codecs.js';
import { encodeSnapshotToString } from '../wire/encode.js';
import { entryHeader } from '../wire/format.js';
import { maxContextSize } from '../wire/limits.js';
import { WireValue } from '../wire/wire-value.js';
import { ByteWriter } from '../wire/writer.js';
import {
  copiedSize,
  copyPlainData,
  entryBound,
  NOT_PLAIN_DATA,
  stringBound,
} from './plain-data.js';
import type { SentBase } from './sent-base.js';
import { matches, NO_SHADOW, SHADOW_NOT_MADE, type Shadow, shadowOf } from './shadow.js';

/** Scratch space for comparing an entry with the base's. */
const scratch = new ByteWriter(256);

/**
 * The delta of `snapshot` from `from` (see {@link ContextTransfer}); undefined when a delta
 * cannot say it (a key the base has is unset here, a key shares a name with an opaque entry, a
 * context near the size limit) or would not pay (over half the entries changed).
 */
export function encodeDelta(
  snapshot: Snapshot,
  from: SentBase,
  registry: Registry,
): unknown[] | undefined {
  const definitions = registry.definitions;
  const values = snapshot[VALUES];
  const baseValues = from.values;
  const chain = snapshot[CHAIN];
  const chainNames = chain === from.chain ? null : changedChain(chain, from.chainNames);
  const delta: unknown[] = [chainNames, null];
  let bound = from.bytes.length + 8;
  if (chainNames !== null) for (const name of chainNames) bound += stringBound(name);
  let encodedChanges: unknown[] | null = null;
  let changes = 0;
  const { slots, sameValueSameEntry, ends, shadows } = from;
  // First what differs for sure, cheaply: a delta that would not pay is given up before any
  // object is compared.
  for (let s = 0; s < slots.length; s++) {
    const i = slots[s]!;
    const value = entryAt(values, i);
    if (value === entryAt(baseValues, i)) continue;
    if (shadows[i] !== NO_SHADOW && typeof value === 'object' && value !== null) continue;
    if (++changes * 2 > from.entries) return undefined;
  }
  changes = 0;
  for (let s = 0; s < slots.length; s++) {
    const i = slots[s]!;
    const value = entryAt(values, i);
    const baseValue = entryAt(baseValues, i);
    // Object.is: -0 and 0 are the same MessagePack entry but not the same superjson one.
    if (sameValueSameEntry[i] === 1 && Object.is(value, baseValue)) continue;
    const definition = definitions[i]!;
    const had = ends[i] !== 0;
    if (had ? unchanged(value, baseValue, definition, from, i) : value === baseValue) continue;
    if (!isSet(values, i)) {
      if (had) return undefined;
      continue;
    }
    if (snapshot[OPAQUE]?.some((e) => e.name === definition.name)) {
      return undefined;
    }
    if (++changes * 2 > from.entries) return undefined;
    // A copy, taken now: a pool may clone the task only when a worker is free, and the value
    // can be changed in place before then.
    const copy = definition.codec === 'msgpack' ? copyPlainData(value) : NOT_PLAIN_DATA;
    if (copy !== NOT_PLAIN_DATA) {
      delta.push(definition.name, definition.version, copy);
      bound += entryBound(definition.name, copiedSize());
    } else {
      putEntry((encodedChanges ??= emptySlots(registry.size)), i, value);
    }
  }
  if (encodedChanges !== null) {
    let wire: string;
    try {
      wire = encodeSnapshotToString(new Snapshot(encodedChanges, null, null));
    } catch {
      return undefined; // the full encoding throws the error a serialize of this context gives
    }
    delta[1] = wire;
    bound += wire.length;
  }
  // Near the limit, the full encoding decides (and throws CONTEXT_TOO_LARGE when over it).
  return bound > maxContextSize() ? undefined : delta;
}

/** The names of `chain`, or null when they are `names`. */
function changedChain(chain: Snapshot[typeof CHAIN], names: readonly string[]): string[] | null {
  let node = chain;
  let i = names.length;
  if ((node?.length ?? 0) === i) {
    while (node !== null && node.name === names[i - 1]) {
      node = node.parent;
      i--;
    }
    if (node === null) return null;
  }
  return chainToArray(chain);
}

/**
 * Whether `value` encodes to the base's entry for slot `index` (`baseValue` is what the base
 * held there). The same primitive does with the built-in codecs, and an entry still undecoded
 * since it arrived is copied as it came; an object does when it is equal, as plain data, to the
 * base's entry decoded back (see `SentBase.shadows`); otherwise the same object is encoded again
 * and compared. So an object changed in place is sent again.
 */
function unchanged(
  value: unknown,
  baseValue: unknown,
  definition: KeyDefinition,
  from: SentBase,
  index: number,
): boolean {
  if (Object.is(value, baseValue)) {
    const type = typeof value;
    if (type !== 'object' && type !== 'function') {
      if (typeof definition.codec === 'string') return true;
    } else if (value === null) {
      if (typeof definition.codec === 'string') return true;
    } else if (!isPlainContainer(value as object)) {
      if (value instanceof WireValue) return value.pending;
      if (value instanceof DeferredValue) return false;
    }
  }
  let shadow = from.shadows[index] as Shadow | typeof NO_SHADOW | typeof SHADOW_NOT_MADE;
  if (shadow === SHADOW_NOT_MADE) shadow = from.shadows[index] = shadowOf(from, index);
  if (shadow !== NO_SHADOW) return matches(value, shadow);
  if (value !== baseValue) return false;
  const writer = scratch;
  writer.reset();
  try {
    writer.str(definition.name);
    writer.uint(entryHeader(definition.version, codecTag(definition.codec)));
    writePayload(writer, value, definition.codec);
  } catch {
    return false;
  }
  const start = from.starts[index]!;
  const end = from.ends[index]!;
  if (writer.pos !== end - start) return false;
  const bytes = writer.bytes;
  const baseBytes = from.bytes;
  for (let i = 0; i < writer.pos; i++) if (bytes[i] !== baseBytes[start + i]) return false;
  return true;
}

/** Whether `value` is a plain object or array (so neither a `WireValue` nor a `DeferredValue`). */
function isPlainContainer(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === Array.prototype;
}

/** Whether slot `index` holds a value a full encoding would write (as its `collect` decides). */
function isSet(values: unknown[], index: number): boolean {
  const value = entryAt(values, index);
  if (value === undefined) return false;
  if (typeof value !== 'object' || value === null || isPlainContainer(value)) return true;
  if (value instanceof WireValue && value.pending) return true;
  if (value instanceof DeferredValue) return readSlot(values, index) !== undefined;
  return true;
}
