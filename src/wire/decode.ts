/**
 * Bytes or a base64url string back into a `Snapshot`. The input is size-checked (not copied),
 * its framing parsed and every payload bounded by the pre-scan; payloads are then decoded
 * lazily (one `WireValue` per slot) or, with `onDecodeError: 'throw'`, right away.
 */
import { DContextError, isDContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import { emptySlots, entryAt, type OpaqueEntry, putDeferred, putEntry } from '../store/frame.js';
import { type ChainNode, chainFromNames } from '../store/scope-chain.js';
import { Snapshot } from '../store/snapshot.js';
import { decodeEntry, entryError } from './decode-entry.js';
import { CodecTag, entryHeader, FORMAT_VERSION, headerCodec, headerVersion } from './format.js';
import { DEFAULT_WIRE_LIMITS, resolveLimits, tooLarge } from './limits.js';
import { parseContext, type RawEntry } from './parse.js';
import { plainBound } from './plain-clone.js';
import { writePlain } from './plain-encoder.js';
import { malformed } from './scan.js';
import type { DeserializeOptions } from './types.js';
import { type DropReporter, WireValue } from './wire-value.js';
import { ByteWriter } from './writer.js';

const PAD = 0x3d;

/**
 * The input bytes, after the size check. Not copied: entries keep a view of them until they
 * are decoded, so the caller must not reuse the buffer while the snapshot lives (a copy would
 * cost more than the whole lazy decode of a typical context).
 */
export function inputBytes(input: unknown, limit: number): Uint8Array {
  if (typeof input === 'string') {
    let length = input.length;
    if (length > 0 && input.charCodeAt(length - 1) === PAD) length--;
    if (length > 0 && input.charCodeAt(length - 1) === PAD) length--;
    const size = Math.floor((length * 3) / 4);
    if (size > limit) throw tooLarge(size, limit, 'deserialize');
    // Node's decoder stops at (or skips) characters outside the alphabet, so a short result
    // means the string was not base64url (a regex test would cost more than the decoding).
    const buffer = Buffer.from(input, 'base64url');
    if (buffer.length !== size || length % 4 === 1) {
      throw malformed('the string is not base64url', 0);
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
  }
  if (ArrayBuffer.isView(input)) {
    if (input.byteLength > limit) throw tooLarge(input.byteLength, limit, 'deserialize');
    // A private copy: lazily decoded entries, binary values and forwarded opaque entries are
    // views of these bytes, so a caller reusing its buffer must not change the snapshot. Copied
    // into Node's buffer pool (`allocUnsafe`; every byte is overwritten): a fresh ArrayBuffer per
    // call costs an off-heap allocation and its finalization, more than the whole lazy decode.
    // A plain Uint8Array view, not a Buffer: binary values decode as Uint8Array.
    const copy = Buffer.allocUnsafe(input.byteLength);
    copy.set(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
    return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
  }
  throw new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context from ${input === null ? 'null' : typeof input}; pass the Uint8Array from serialize() or the string from serializeToString()`,
  );
}

function warnDropped(error: DContextError): void {
  process.emitWarning(error.message, { type: 'DContextWarning', code: 'DCONTEXT_DECODE' });
}

/** Any failure as the `DECODE_FAILED` the contract promises. */
function asDecodeError(error: unknown): DContextError {
  if (isDContextError(error)) return error;
  return new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context: ${error instanceof Error ? error.message : String(error)}`,
    undefined,
    { cause: error },
  );
}

/** Marks the slot of a known key whose entry was not decoded (opaque or dropped). */
const TAKEN: unique symbol = Symbol('taken');

/** Parses `input` into a snapshot; see `deserialize` for the contract. */
export function decodeSnapshot(input: unknown, options: DeserializeOptions = {}): Snapshot {
  const registry = currentRegistry();
  const limits = resolveLimits(options.limits);
  const eager = options.onDecodeError === 'throw';
  const report: DropReporter = options.onDroppedEntry ?? warnDropped;
  try {
    const bytes = inputBytes(input, runtime.maxContextSize);
    const { chain, entries } = parseContext(bytes, limits);
    // Decoded lazily, entries wait past the slots (see store/frame.ts): room for them up front.
    const size = registry.size;
    const values = emptySlots(eager || entries.length === 0 ? size : 2 * size);
    let opaque: OpaqueEntry[] | null = null;
    let unknownNames: Set<string> | null = null;
    let taken = false;
    for (const entry of entries) {
      const definition = registry.byName(entry.name);
      let reason: OpaqueEntry['reason'] | undefined;
      if (definition === undefined) {
        unknownNames ??= new Set();
        if (unknownNames.has(entry.name)) throw duplicate(entry);
        unknownNames.add(entry.name);
        reason = 'unknown-key';
      } else {
        const index = definition.index;
        if (entryAt(values, index) !== undefined) throw duplicate(entry);
        const version = headerVersion(entry.header);
        if (headerCodec(entry.header) === CodecTag.reserved) reason = 'unknown-codec';
        else if (version > definition.version) reason = 'newer-version';
        else if (definition.local || version < 1) {
          const error = entryError(
            entry.name,
            definition.local
              ? 'the key is local-only in this process, so it is not accepted from the wire'
              : 'its version is 0; versions start at 1',
          );
          if (eager) throw error;
          report(error);
        } else {
          if (eager) values[index] = decodeEntry(bytes, entry, definition);
          else putDeferred(values, index, new WireValue(bytes, entry, definition, report));
          continue;
        }
        values[index] = TAKEN;
        taken = true;
      }
      if (reason !== undefined && options.unknownEntries !== 'drop') {
        const raw = bytes.subarray(entry.start, entry.end);
        const version = headerVersion(entry.header);
        (opaque ??= []).push({ name: entry.name, version, raw, reason });
      }
    }
    if (taken) for (let i = 0; i < size; i++) if (values[i] === TAKEN) values[i] = undefined;
    return new Snapshot(values, chainFromNames(chain), opaque);
  } catch (error) {
    throw asDecodeError(error);
  }
}

function duplicate(entry: RawEntry): DContextError {
  return malformed(`key '${entry.name}' appears twice`, entry.start);
}

/**
 * A received context kept, decoded against this thread's registry, as the base of the contexts
 * later sent as a difference from it (see {@link decodeOverlay}).
 */
export interface OverlayBase {
  readonly registry: Registry;
  readonly bytes: Uint8Array;
  readonly entries: readonly RawEntry[];
  /** Every entry by name. */
  readonly byName: ReadonlyMap<string, RawEntry>;
  readonly chainNames: readonly string[];
  readonly chain: ChainNode | null;
  /**
   * Per slot: the decoded value of an entry that decodes to a primitive (shared by every context
   * built on this base: it cannot be changed in place), else undefined.
   */
  readonly shared: readonly unknown[];
  /** The other usable entries, decoded afresh (lazily) for each context built on this base. */
  readonly lazy: readonly RawEntry[];
  readonly lazyDefinitions: readonly KeyDefinition[];
  readonly opaque: OpaqueEntry[] | null;
}

/**
 * `input` (a wire message) prepared as the base of {@link decodeOverlay}: decoded once, its
 * entries sorted into decoded primitives, entries to decode lazily and opaque ones. An entry
 * this thread drops (a key local-only here, version 0) is reported now, once.
 */
export function prepareOverlayBase(input: unknown): OverlayBase {
  const registry = currentRegistry();
  const decoded = decodeSnapshot(input);
  try {
    const bytes = inputBytes(input, runtime.maxContextSize);
    const { chain, entries } = parseContext(bytes, DEFAULT_WIRE_LIMITS);
    const shared = decoded.values;
    const byName = new Map<string, RawEntry>();
    const lazy: RawEntry[] = [];
    const lazyDefinitions: KeyDefinition[] = [];
    for (const entry of entries) {
      byName.set(entry.name, entry);
      const definition = registry.byName(entry.name);
      if (definition === undefined) continue;
      const value = entryAt(shared, definition.index);
      if (!(value instanceof WireValue)) continue;
      if (primitivePayload(bytes, entry, definition)) {
        const primitive = value.resolve();
        if (primitive !== undefined) {
          putEntry(shared, definition.index, primitive);
          continue;
        }
      }
      putEntry(shared, definition.index, undefined);
      lazy.push(entry);
      lazyDefinitions.push(definition);
    }
    // Room for the lazy entries each context adds (see frame.ts), or none when there are none.
    if (lazy.length === 0) shared.length = Math.min(shared.length, registry.size);
    return {
      registry,
      bytes,
      entries,
      byName,
      chainNames: chain,
      chain: decoded.chain,
      shared,
      lazy,
      lazyDefinitions,
      opaque: decoded.opaque as OpaqueEntry[] | null,
    };
  } catch (error) {
    throw asDecodeError(error);
  }
}

/**
 * Whether `entry` decodes to a primitive for `definition` with no code of the key's run on it:
 * MessagePack of a nil, boolean, number or string, at the key's own version, without `validate`.
 */
function primitivePayload(bytes: Uint8Array, entry: RawEntry, definition: KeyDefinition): boolean {
  if (headerCodec(entry.header) !== CodecTag.msgpack) return false;
  if (headerVersion(entry.header) !== definition.version) return false;
  if (definition.validate !== undefined) return false;
  const head = bytes[entry.payload]!;
  // fixint, fixstr, nil, booleans, floats, ints, str8-32, negative fixint.
  return (
    head < 0x80 ||
    (head >= 0xa0 && head <= 0xc3 && head !== 0xc1) ||
    (head >= 0xca && head <= 0xd3) ||
    (head >= 0xd9 && head <= 0xdb) ||
    head >= 0xe0
  );
}

/**
 * What `deserialize` (default options) gives for the message made of `base`'s entries, except
 * those the change names, then the changed entries, under `chainNames` (base's chain when null):
 * a context sent as its difference from one sent before. Changed entries come as the entries of
 * a wire message (`changes`, whose own chain is ignored) and as `[name, version, value]` triples
 * in `plain` from index `start`: values of MessagePack-codec keys that structured clone carries
 * as the wire format would (see `plainBound`), not encoded. The common case (plain entries of
 * keys this thread takes as they are) is built straight from the prepared base; any other
 * decodes that message. Values that are not primitives are decoded afresh for each call: no
 * object is shared between the contexts built on one base.
 */
export function decodeOverlay(
  base: OverlayBase,
  chainNames: unknown,
  changes: unknown,
  plain: readonly unknown[],
  start: number,
): Snapshot {
  try {
    if (chainNames !== null) {
      if (!Array.isArray(chainNames)) throw malformed('the scope chain is not a list', 0);
      for (const name of chainNames) {
        if (typeof name !== 'string') throw malformed('a scope name is not a string', 0);
      }
    }
    if ((plain.length - start) % 3 !== 0) throw malformed('a plain entry is incomplete', 0);
    if (changes === null) {
      const quick = overlayPlain(base, chainNames as string[] | null, plain, start);
      if (quick !== undefined) return quick;
    }
    return decodeSnapshot(
      mergedMessage(base, chainNames as string[] | null, changes, plain, start),
    );
  } catch (error) {
    throw asDecodeError(error);
  }
}

/**
 * The common case of {@link decodeOverlay}: only plain entries, all of keys this thread takes as
 * they are (registered, not local-only, same version, no `validate`), well within the limits.
 * Undefined when the message must be decoded instead.
 */
function overlayPlain(
  base: OverlayBase,
  chainNames: readonly string[] | null,
  plain: readonly unknown[],
  start: number,
): Snapshot | undefined {
  const registry = base.registry;
  let bound = base.bytes.length + 8;
  let chain = base.chain;
  if (chainNames !== null) {
    for (const name of chainNames) bound += name.length * 3 + 5;
    if (!sameNames(chainNames, base.chainNames)) chain = chainFromNames(chainNames);
  }
  const values = base.shared.slice();
  const lazy = base.lazy;
  for (let i = 0; i < lazy.length; i++) {
    const definition = base.lazyDefinitions[i]!;
    putDeferred(
      values,
      definition.index,
      new WireValue(base.bytes, lazy[i]!, definition, warnDropped),
    );
  }
  let opaque = base.opaque;
  let entries = base.entries.length;
  for (let i = start; i < plain.length; i += 3) {
    const name = plain[i];
    const value = plain[i + 2];
    const size = plainBound(value);
    if (typeof name !== 'string' || name.length === 0 || size < 0) {
      throw malformed('a plain entry is not a name and plain data', 0);
    }
    const definition = registry.byName(name);
    if (
      definition === undefined ||
      definition.local ||
      definition.version !== plain[i + 1] ||
      definition.validate !== undefined
    ) {
      return undefined;
    }
    for (let j = start; j < i; j += 3) {
      if (plain[j] === name) throw malformed(`key '${name}' appears twice`, 0);
    }
    if (!base.byName.has(name)) entries++;
    else if (opaque !== null) opaque = withoutEntry(opaque, name);
    putEntry(values, definition.index, value);
    bound += name.length * 3 + 14 + size;
  }
  if (bound > runtime.maxContextSize || entries > DEFAULT_WIRE_LIMITS.maxEntries) return undefined;
  return new Snapshot(values, chain, opaque);
}

/** `opaque` without the entry named `name` (the array itself when it has none). */
function withoutEntry(opaque: OpaqueEntry[], name: string): OpaqueEntry[] {
  for (let i = 0; i < opaque.length; i++) {
    if (opaque[i]!.name === name) return opaque.filter((entry) => entry.name !== name);
  }
  return opaque;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The whole message an overlay stands for: base's entries not named by the change, then the
 * changed ones (a name repeated within the change stays repeated, so decoding refuses it).
 */
function mergedMessage(
  base: OverlayBase,
  chainNames: readonly string[] | null,
  changes: unknown,
  plain: readonly unknown[],
  start: number,
): Uint8Array {
  let changeBytes: Uint8Array | null = null;
  let changed: readonly RawEntry[] = [];
  if (changes !== null) {
    changeBytes = inputBytes(changes, runtime.maxContextSize);
    changed = parseContext(changeBytes, DEFAULT_WIRE_LIMITS).entries;
  }
  const names = new Set<string>();
  for (const entry of changed) names.add(entry.name);
  for (let i = start; i < plain.length; i += 3) {
    const name = plain[i];
    const version = plain[i + 1];
    if (typeof name !== 'string' || name.length === 0 || plainBound(plain[i + 2]) < 0) {
      throw malformed('a plain entry is not a name and plain data', 0);
    }
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
      throw malformed(`the version of '${name}' is not an unsigned integer`, 0);
    }
    names.add(name);
  }
  const writer = new ByteWriter(base.bytes.length + (changeBytes?.length ?? 0) + 64);
  writer.u8(FORMAT_VERSION);
  const chain = chainNames ?? base.chainNames;
  writer.arrayHeader(chain.length);
  for (const name of chain) writer.str(name);
  const kept = base.entries.filter((entry) => !names.has(entry.name));
  writer.arrayHeader((kept.length + changed.length + (plain.length - start) / 3) * 3);
  for (const entry of kept) writer.raw(base.bytes.subarray(entry.start, entry.end));
  for (const entry of changed) writer.raw(changeBytes!.subarray(entry.start, entry.end));
  for (let i = start; i < plain.length; i += 3) {
    writer.str(plain[i] as string);
    writer.uint(entryHeader(plain[i + 1] as number, CodecTag.msgpack));
    writePlain(writer, plain[i + 2], Number.POSITIVE_INFINITY);
  }
  return writer.take();
}
