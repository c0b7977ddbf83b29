/**
 * A context in the form that crosses into another thread (worker environment data, messages,
 * pool tasks). Registered non-local keys, the scope chain and opaque entries travel in the wire
 * format, so the receiving thread decodes what its own registry has registered and forwards
 * unknown keys unchanged, exactly as across processes. They travel as its string form
 * (base64url): structured clone copies a short string about ten times faster than a
 * `Uint8Array`, whose clone allocates a new backing store. Local-only keys never go on the wire;
 * they travel by name, as values for the channel to structured-clone.
 *
 * Most contexts a thread sends differ from one it sent shortly before in a few keys: each
 * request sets its own id on top of the same tenant, user and flags. Encoding every context in
 * full (and decoding it on the other side) was most of what carrying a new context per task
 * cost. So a context is sent as a *base*, the full encoding of a context sent earlier, plus a
 * *delta*: its scope chain when that differs, and the keys whose values differ from the base's.
 * A changed value that structured clone carries exactly as the wire format would (plain data of
 * a MessagePack key: ids, numbers, flags, plain objects; see `plainBound`) goes as it is, by
 * name and key version, with nothing to encode or decode; any other goes in a small wire-format
 * part. The base string is the same for many messages: the receiver prepares it once (see
 * decode-cache.ts) and applies each delta to it (see `decodeOverlay`). A value counts as
 * unchanged when it is the same primitive, or an object equal as plain data to what the base
 * encoded (so an object changed in place is sent again): the receiver gets exactly what a full
 * encoding would have carried, each message its own decoded objects.
 */
import { DContextError } from '../errors.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import { DeferredValue } from '../store/deferred.js';
import {
  emptySlots,
  entryAt,
  fitToRegistry,
  putEntry,
  readSlot,
  validateValue,
} from '../store/frame.js';
import { chainToArray } from '../store/scope-chain.js';
import { Snapshot } from '../store/snapshot.js';
import { toBase64Url } from './base64url.js';
import { codecTag, writePayload } from './codecs.js';
import { decodeOverlay } from './decode.js';
import { overlayBase } from './decode-cache.js';
import { type EncodedLayout, encodeSnapshot, encodeSnapshotToString } from './encode.js';
import { entryHeader } from './format.js';
import { DEFAULT_WIRE_LIMITS, maxContextSize } from './limits.js';
import { parseEntry } from './parse.js';
import { copiedSize, copyPlainData, NOT_PLAIN_DATA } from './plain-clone.js';
import { decodePlain, NOT_PLAIN } from './plain-decoder.js';
import { WireValue } from './wire-value.js';
import { ByteWriter } from './writer.js';

/** Local-only values, as `[key name, value]` pairs. */
export type LocalEntries = readonly (readonly [string, unknown])[];

/** A context ready for `postMessage` (or any other structured-clone channel). */
export interface ContextTransfer {
  /**
   * The wire format's string form: non-local values, scope chain, opaque entries. With a
   * `delta`, the context it was computed against (the base).
   */
  readonly wire: string;
  /**
   * When set, this context differs from `wire`'s by: `[chain, changes, ...plain]`, with `chain`
   * its scope chain names (null: the same as `wire`'s), `changes` the wire string form of the
   * changed entries that do not go as plain data (or null), and `plain` flat
   * `[name, version, value]` triples (see `decodeOverlay`).
   */
  readonly delta?: readonly unknown[] | null;
  /** Local-only values by key name, or null when none is set. */
  readonly local: LocalEntries | null;
}

/** The last context encoded in full: what deltas are computed against. */
interface Base {
  readonly registry: Registry;
  readonly values: unknown[];
  readonly opaque: Snapshot['opaque'];
  readonly chain: Snapshot['chain'];
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
   * (`PENDING` until first needed; `NO_SHADOW` for the others): a value equal to it as plain
   * data encodes to the same entry.
   */
  readonly shadows: (Shadow | typeof NO_SHADOW | typeof PENDING)[];
  /** The registry's non-local slots, the ones a delta looks at. */
  readonly slots: readonly number[];
  /**
   * Per slot, 1 when holding the base's value there means holding what it encoded: no entry,
   * or a primitive with a built-in codec.
   */
  readonly simple: Uint8Array;
}

const NO_SHADOW: unique symbol = Symbol('no shadow');
const PENDING: unique symbol = Symbol('shadow not made yet');

let base: Base | null = null;

const NO_PLAIN: readonly unknown[] = [];

/** Scratch space for comparing an entry with the base's. */
const scratch = new ByteWriter(256);

/**
 * `snapshot` in transferable form. Throws `NOT_CLONEABLE` (naming the key) when a local-only
 * value cannot be structured-cloned, and the wire errors of `serialize`, before anything is sent.
 */
export function toTransfer(snapshot: Snapshot): ContextTransfer {
  const registry = currentRegistry();
  const current = base;
  let delta: unknown[] | undefined;
  if (current !== null && current.registry === registry && current.opaque === snapshot.opaque) {
    delta = encodeDelta(snapshot, current, registry);
  }
  let wire: string;
  if (delta === undefined) wire = newBase(snapshot, registry).wire;
  else {
    wire = current!.wire;
    // Nothing changed: the base itself, which the receiver may have decoded already.
    if (delta.length === 2 && delta[0] === null && delta[1] === null) delta = undefined;
  }
  // Nothing is cached by slot array: a value can change in place without `set` (an object
  // mutated), so every send compares against the base and re-checks local values' cloneability.
  return { wire, delta: delta ?? null, local: localEntries(snapshot, registry) };
}

/** Encodes `snapshot` in full and makes it the base of the deltas that follow. */
function newBase(snapshot: Snapshot, registry: Registry): Base {
  const layout: EncodedLayout = { slots: [], entries: 0, start: 0 };
  const bytes = encodeSnapshot(snapshot, layout);
  const starts = new Array<number>(registry.size).fill(0);
  const ends = new Array<number>(registry.size).fill(0);
  const shadows = new Array<Shadow | typeof NO_SHADOW | typeof PENDING>(registry.size).fill(
    NO_SHADOW,
  );
  const definitions = registry.definitions;
  const values = snapshot.values.slice();
  const nonLocal: number[] = [];
  const simple = new Uint8Array(registry.size);
  for (let i = 0; i < definitions.length; i++) {
    const definition = definitions[i]!;
    if (definition.local) continue;
    nonLocal.push(i);
    const value = entryAt(values, i);
    const primitive = typeof value !== 'object' && typeof value !== 'function';
    if (primitive && typeof definition.codec === 'string') simple[i] = 1;
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
      shadows[slot] = PENDING; // made when first compared against
    }
  }
  base = {
    registry,
    // A copy: reads memoize decoded entries into the slot array, and the base must keep what it
    // encoded (an entry forwarded as it arrived is still the `WireValue` that was copied).
    values,
    opaque: snapshot.opaque,
    chain: snapshot.chain,
    chainNames: chainToArray(snapshot.chain),
    bytes,
    wire: toBase64Url(bytes),
    starts,
    ends,
    entries: layout.entries,
    entryBytes: bytes.length - layout.start,
    shadows,
    slots: nonLocal,
    simple,
  };
  return base;
}

/**
 * The delta of `snapshot` from `from` (see {@link ContextTransfer}); undefined when a delta
 * cannot say it (a key the base has is unset here, a key shares a name with an opaque entry, a
 * context near the size limit) or would not pay (over half the entries changed).
 */
function encodeDelta(snapshot: Snapshot, from: Base, registry: Registry): unknown[] | undefined {
  const definitions = registry.definitions;
  const values = snapshot.values;
  const baseValues = from.values;
  const chain = snapshot.chain;
  const chainNames = chain === from.chain ? null : changedChain(chain, from.chainNames);
  const delta: unknown[] = [chainNames, null];
  let bound = from.bytes.length + 8;
  if (chainNames !== null) for (const name of chainNames) bound += name.length * 3 + 5;
  let sparse: unknown[] | null = null;
  let changes = 0;
  const { slots, simple, ends, shadows } = from;
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
    if (simple[i] === 1 && Object.is(value, baseValue)) continue;
    const definition = definitions[i]!;
    const had = ends[i] !== 0;
    if (had ? unchanged(value, baseValue, definition, from, i) : value === baseValue) continue;
    if (!isSet(values, i)) {
      if (had) return undefined;
      continue;
    }
    if (snapshot.opaque?.some((e) => e.name === definition.name)) {
      return undefined;
    }
    if (++changes * 2 > from.entries) return undefined;
    // A copy, taken now: a pool may clone the task only when a worker is free, and the value
    // can be changed in place before then.
    const copy = definition.codec === 'msgpack' ? copyPlainData(value) : NOT_PLAIN_DATA;
    if (copy !== NOT_PLAIN_DATA) {
      delta.push(definition.name, definition.version, copy);
      bound += definition.name.length * 3 + 14 + copiedSize();
    } else {
      putEntry((sparse ??= emptySlots(registry.size)), i, value);
    }
  }
  if (sparse !== null) {
    let wire: string;
    try {
      wire = encodeSnapshotToString(new Snapshot(sparse, null, null));
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
function changedChain(chain: Snapshot['chain'], names: readonly string[]): string[] | null {
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
 * base's entry decoded back (see `Base.shadows`); otherwise the same object is encoded again
 * and compared. So an object changed in place is sent again.
 */
function unchanged(
  value: unknown,
  baseValue: unknown,
  definition: KeyDefinition,
  from: Base,
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
  let shadow = from.shadows[index] as Shadow | typeof NO_SHADOW | typeof PENDING;
  if (shadow === PENDING) shadow = from.shadows[index] = shadowOf(from, index);
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

/** The shadow of the base's entry for slot `index` (see `Base.shadows`). */
function shadowOf(from: Base, index: number): Shadow | typeof NO_SHADOW {
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
type Shadow = string | number | boolean | null | Shadow[] | ShadowRecord;

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
function matches(value: unknown, shadow: Shadow): boolean {
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

function localEntries(snapshot: Snapshot, registry: Registry): LocalEntries | null {
  const slots = localSlots(registry);
  if (slots.length === 0) return null;
  const definitions = registry.definitions;
  const values = snapshot.values;
  let entries: [string, unknown][] | null = null;
  for (const i of slots) {
    if (i >= values.length) break;
    const value = readSlot(values, i);
    if (value === undefined) continue;
    const name = definitions[i]!.name;
    // The clone is what goes: a task queued in a pool must not see later in-place changes.
    (entries ??= []).push([name, cloneLocal(name, value)]);
  }
  return entries;
}

let localsOf: Registry | null = null;
let locals: readonly number[] = [];

/** The slots of the local-only keys of `registry`. */
function localSlots(registry: Registry): readonly number[] {
  if (localsOf !== registry) {
    const slots: number[] = [];
    registry.definitions.forEach((definition, i) => {
      if (definition.local) slots.push(i);
    });
    locals = slots;
    localsOf = registry;
  }
  return locals;
}

/** `value` structured-cloned now, or `NOT_CLONEABLE` naming the key. */
function cloneLocal(name: string, value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new DContextError(
      'NOT_CLONEABLE',
      `the local-only key '${name}' holds a value that cannot be structured-cloned into another thread (${detail}); set a cloneable value (no functions, sockets or class instances with private state) or leave it unset for the cross-thread call`,
      name,
      { cause },
    );
  }
}

/** Whether `value` has the shape of a {@link ContextTransfer} (from another thread: untrusted). */
export function isTransfer(value: unknown): value is ContextTransfer {
  if (typeof value !== 'object' || value === null) return false;
  const { wire, delta, local } = value as { wire?: unknown; delta?: unknown; local?: unknown };
  return (
    typeof wire === 'string' &&
    (delta === undefined || delta === null || (Array.isArray(delta) && delta.length >= 2)) &&
    (local === null || Array.isArray(local))
  );
}

/**
 * The snapshot a transfer carries, decoded against this thread's registry: registered keys
 * decode (lazily), unknown ones stay opaque, local values are matched by name. A local value
 * whose name is not registered here, or that fails the key's `validate`, is left out.
 */
export function fromTransfer(transfer: ContextTransfer): Snapshot {
  return snapshotOf(transfer.wire, transfer.delta ?? null, transfer.local, 0);
}

/**
 * {@link fromTransfer} of the parts of a transfer, with the delta's items in `delta` from index
 * `at` (the envelope carries them inline).
 */
export function snapshotOf(
  wire: string,
  delta: readonly unknown[] | null,
  local: LocalEntries | null,
  at: number,
): Snapshot {
  // A full context is its own base with nothing changed: built the same way, so no decoded
  // object is ever shared between two messages (two requests can send identical bytes).
  const received =
    delta === null
      ? decodeOverlay(overlayBase(wire), null, null, NO_PLAIN, 0)
      : decodeOverlay(overlayBase(wire), delta[at], delta[at + 1], delta, at + 2);
  if (local === null || local.length === 0) return received;
  const registry = currentRegistry();
  const values = fitToRegistry(received.values).slice();
  for (const entry of local) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const definition = registry.byName(entry[0]);
    if (definition === undefined) continue;
    try {
      validateValue(definition, entry[1]);
    } catch {
      continue;
    }
    putEntry(values, definition.index, entry[1]);
  }
  return new Snapshot(values, received.chain, received.opaque);
}
