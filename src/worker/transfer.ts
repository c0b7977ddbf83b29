/**
 * A context in the form that crosses into another thread (worker environment data, messages,
 * pool tasks). Registered non-local keys, the scope chain and opaque entries travel in the wire
 * format, so the receiving thread decodes what its own registry has registered and forwards
 * unknown keys unchanged, exactly as across processes. They travel as its string form
 * (base64url): structured clone copies a short string about ten times faster than a
 * `Uint8Array`, whose clone allocates a new backing store. Local-only keys never go on the wire;
 * they travel by name, as values for the channel to structured-clone.
 *
 * Most contexts a thread sends differ from the one it sent before in a few keys (each request
 * sets its own id on top of the same tenant, user and flags). So a context is sent as a *base*,
 * the full encoding of a context sent earlier, plus a *delta*, the wire encoding of the entries
 * that differ from the base, with the scope chain. The base string is the same for many
 * messages: the receiver parses it once (see decode-cache.ts) and decodes only the delta. A
 * value counts as unchanged when it is the same primitive, or the same object with the same
 * encoding (an object changed in place is sent again), so the receiver sees exactly what a full
 * encoding would carry.
 */
import { DContextError } from '../errors.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import { DeferredValue } from '../store/deferred.js';
import { fitToRegistry, readSlot, validateValue } from '../store/frame.js';
import { Snapshot } from '../store/snapshot.js';
import { toBase64Url } from '../wire/base64url.js';
import { codecTag, writePayload } from '../wire/codecs.js';
import { decodeOverlay } from '../wire/decode.js';
import { type EncodedLayout, encodeSnapshot, encodeSnapshotToString } from '../wire/encode.js';
import { entryHeader } from '../wire/format.js';
import { WireValue } from '../wire/wire-value.js';
import { ByteWriter } from '../wire/writer.js';
import { decodeWire, parseWireOnce } from './decode-cache.js';

/** Local-only values, as `[key name, value]` pairs. */
export type LocalEntries = readonly (readonly [string, unknown])[];

/** A context ready for `postMessage` (or any other structured-clone channel). */
export interface ContextTransfer {
  /**
   * The wire format's string form: non-local values, scope chain, opaque entries. With a
   * `delta`, the context it was computed against (the base).
   */
  readonly wire: string;
  /** The entries that differ from `wire`, with this context's scope chain (wire string form). */
  readonly delta?: string | null;
  /** Local-only values by key name, or null when none is set. */
  readonly local: LocalEntries | null;
}

interface CachedTransfer {
  readonly chain: Snapshot['chain'];
  readonly opaque: Snapshot['opaque'];
  readonly transfer: ContextTransfer;
}

/**
 * Transfers by slot array. A captured slot array is never written again (copy-on-write), so
 * every task a request submits from the same scope reuses one encoding; the cloneability check
 * of local values also runs once per array.
 */
const cache = new WeakMap<unknown[], CachedTransfer>();

/** The last context encoded in full: what deltas are computed against. */
interface Base {
  readonly registry: Registry;
  readonly values: unknown[];
  readonly opaque: Snapshot['opaque'];
  readonly bytes: Uint8Array;
  readonly wire: string;
  /** Per slot, where its entry lies in `bytes` (`end` 0: no entry). */
  readonly starts: number[];
  readonly ends: number[];
  /** Entries in `bytes`, and their total size. */
  readonly entries: number;
  readonly entryBytes: number;
}

let base: Base | null = null;

/** Scratch space for comparing an entry with the base's. */
const scratch = new ByteWriter(256);

/**
 * `snapshot` in transferable form. Throws `NOT_CLONEABLE` (naming the key) when a local-only
 * value cannot be structured-cloned, and the wire errors of `serialize`, before anything is sent.
 */
export function toTransfer(snapshot: Snapshot): ContextTransfer {
  const cached = cache.get(snapshot.values);
  if (
    cached !== undefined &&
    cached.chain === snapshot.chain &&
    cached.opaque === snapshot.opaque
  ) {
    return cached.transfer;
  }
  const registry = currentRegistry();
  const current = base;
  let delta: string | undefined;
  if (current !== null && current.registry === registry && current.opaque === snapshot.opaque) {
    delta = encodeDelta(snapshot, current, registry);
  }
  const transfer: ContextTransfer =
    delta === undefined
      ? { wire: newBase(snapshot, registry).wire, delta: null, local: localEntries(snapshot) }
      : { wire: current!.wire, delta, local: localEntries(snapshot) };
  cache.set(snapshot.values, { chain: snapshot.chain, opaque: snapshot.opaque, transfer });
  return transfer;
}

/** Encodes `snapshot` in full and makes it the base of the deltas that follow. */
function newBase(snapshot: Snapshot, registry: Registry): Base {
  const layout: EncodedLayout = { slots: [], entries: 0, start: 0 };
  const bytes = encodeSnapshot(snapshot, layout);
  const starts = new Array<number>(registry.size).fill(0);
  const ends = new Array<number>(registry.size).fill(0);
  const { slots } = layout;
  for (let i = 0; i < slots.length; i += 3) {
    starts[slots[i]!] = slots[i + 1]!;
    ends[slots[i]!] = slots[i + 2]!;
  }
  base = {
    registry,
    values: snapshot.values,
    opaque: snapshot.opaque,
    bytes,
    wire: toBase64Url(bytes),
    starts,
    ends,
    entries: layout.entries,
    entryBytes: bytes.length - layout.start,
  };
  return base;
}

/**
 * The wire string of the entries of `snapshot` that differ from `from`, with its scope chain;
 * undefined when a delta cannot say it (a key the base has is unset here, a key shares a name
 * with an opaque entry, the limits) or would not pay (over half the entries changed).
 */
function encodeDelta(snapshot: Snapshot, from: Base, registry: Registry): string | undefined {
  const definitions = registry.definitions;
  const values = snapshot.values;
  const baseValues = from.values;
  const count = Math.min(definitions.length, Math.max(values.length, baseValues.length));
  let changed: number[] | null = null;
  let replaced = 0;
  let replacedBytes = 0;
  for (let i = 0; i < count; i++) {
    const definition = definitions[i]!;
    if (definition.local) continue;
    const value = values[i];
    const had = from.ends[i] !== 0;
    if (value === baseValues[i] && (!had || unchanged(value, definition, from, i))) continue;
    if (!isSet(values, i)) {
      if (had) return undefined;
      continue;
    }
    if (snapshot.opaque !== null && snapshot.opaque.some((e) => e.name === definition.name)) {
      return undefined;
    }
    (changed ??= []).push(i);
    if (had) {
      replaced++;
      replacedBytes += from.ends[i]! - from.starts[i]!;
    }
  }
  const changes = changed?.length ?? 0;
  if (changes * 2 > from.entries) return undefined;
  const sparse = new Array<unknown>(registry.size).fill(undefined);
  if (changed !== null) for (const i of changed) sparse[i] = values[i];
  let delta: string;
  try {
    delta = encodeSnapshotToString(new Snapshot(sparse, snapshot.chain, null));
  } catch {
    return undefined; // the full encoding throws the error a serialize of this context gives
  }
  // The size of the full encoding, which the limit applies to.
  const deltaBytes = Math.floor((delta.length * 3) / 4);
  const entries = from.entries - replaced + changes;
  const size =
    deltaBytes -
    arrayHeaderSize(changes * 3) +
    arrayHeaderSize(entries * 3) +
    from.entryBytes -
    replacedBytes;
  return size > currentLimit() ? undefined : delta;
}

/**
 * Whether `value`, which is also the base's value for slot `index`, still encodes to the base's
 * entry: a primitive always does with the built-in codecs, an entry still undecoded since it
 * arrived is copied as it came, anything else is encoded again and compared.
 */
function unchanged(value: unknown, definition: KeyDefinition, from: Base, index: number): boolean {
  const type = typeof value;
  if (
    (type === 'string' || type === 'number' || type === 'boolean' || value === null) &&
    typeof definition.codec === 'string'
  ) {
    return true;
  }
  if (value instanceof WireValue) return value.pending;
  if (value instanceof DeferredValue) return false;
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

/** Whether slot `index` holds a value a full encoding would write (as its `collect` decides). */
function isSet(values: unknown[], index: number): boolean {
  const value = values[index];
  if (value === undefined) return false;
  if (value instanceof WireValue && value.pending) return true;
  if (value instanceof DeferredValue) return readSlot(values, index) !== undefined;
  return true;
}

function arrayHeaderSize(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5;
}

let limitOf: (() => number) | undefined;

function currentLimit(): number {
  return (limitOf ??= () => maxContextSizeNow())();
}

function localEntries(snapshot: Snapshot): LocalEntries | null {
  const definitions = currentRegistry().definitions;
  const values = snapshot.values;
  let entries: [string, unknown][] | null = null;
  for (let i = 0; i < Math.min(definitions.length, values.length); i++) {
    const definition = definitions[i]!;
    if (!definition.local) continue;
    const value = readSlot(values, i);
    if (value === undefined) continue;
    assertCloneable(definition.name, value);
    (entries ??= []).push([definition.name, value]);
  }
  return entries;
}

function assertCloneable(name: string, value: unknown): void {
  try {
    structuredClone(value);
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
    (delta === undefined || delta === null || typeof delta === 'string') &&
    (local === null || Array.isArray(local))
  );
}

/**
 * The snapshot a transfer carries, decoded against this thread's registry: registered keys
 * decode (lazily), unknown ones stay opaque, local values are matched by name. A local value
 * whose name is not registered here, or that fails the key's `validate`, is left out.
 */
export function fromTransfer(transfer: ContextTransfer): Snapshot {
  const delta = transfer.delta;
  const received =
    typeof delta === 'string'
      ? decodeOverlay(parseWireOnce(transfer.wire), delta)
      : decodeWire(transfer.wire);
  if (transfer.local === null || transfer.local.length === 0) return received;
  const registry = currentRegistry();
  const values = fitToRegistry(received.values).slice();
  for (const entry of transfer.local) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const definition = registry.byName(entry[0]);
    if (definition === undefined) continue;
    try {
      validateValue(definition, entry[1]);
    } catch {
      continue;
    }
    values[definition.index] = entry[1];
  }
  return new Snapshot(values, received.chain, received.opaque);
}
