/**
 * Bytes or a base64url string back into a `Snapshot`. The input is size-checked (not copied),
 * its framing parsed and every payload bounded by the pre-scan; payloads are then decoded
 * lazily (one `WireValue` per slot) or, with `onDecodeError: 'throw'`, right away.
 */
import { DContextError, isDContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import type { OpaqueEntry } from '../store/frame.js';
import { chainFromNames } from '../store/scope-chain.js';
import { Snapshot } from '../store/snapshot.js';
import { decodeEntry, entryError } from './decode-entry.js';
import { CodecTag, headerCodec, headerVersion } from './format.js';
import { DEFAULT_WIRE_LIMITS, resolveLimits, tooLarge } from './limits.js';
import { parseContext, type RawContext, type RawEntry } from './parse.js';
import { malformed, overLimit } from './scan.js';
import type { DeserializeOptions } from './types.js';
import { type DropReporter, WireValue } from './wire-value.js';

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
    // A plain Uint8Array view (not a copy): binary values decode as Uint8Array, not Buffer.
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
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
  try {
    const bytes = inputBytes(input, runtime.maxContextSize);
    const { chain, entries } = parseContext(bytes, limits);
    return assemble(registry, chain, bytes, entries, null, null, options);
  } catch (error) {
    throw asDecodeError(error);
  }
}

/** A message with its framing parsed (see {@link parseWire}): its bytes and located entries. */
export interface ParsedWire extends RawContext {
  readonly bytes: Uint8Array;
}

/** The size check and the framing of `input` with the default limits; throws `DECODE_FAILED`. */
export function parseWire(input: unknown): ParsedWire {
  try {
    const bytes = inputBytes(input, runtime.maxContextSize);
    const { chain, entries } = parseContext(bytes, DEFAULT_WIRE_LIMITS);
    return { bytes, chain, entries };
  } catch (error) {
    throw asDecodeError(error);
  }
}

/**
 * What `deserialize` (default options) gives for the message made of `base`'s entries, except
 * those named in `delta`, followed by `delta`'s entries, under `delta`'s scope chain: a context
 * sent as a difference from one sent before, whose parsed framing the receiver kept. The size
 * and entry limits apply to that whole message.
 */
export function decodeOverlay(base: ParsedWire, delta: unknown): Snapshot {
  const registry = currentRegistry();
  const changes = parseWire(delta);
  try {
    const changed = changes.entries;
    const kept: RawEntry[] = [];
    let size = changes.bytes.length - arrayHeaderSize(changed.length * 3);
    for (const entry of base.entries) {
      if (named(changed, entry.name)) continue;
      kept.push(entry);
      size += entry.end - entry.start;
    }
    const count = kept.length + changed.length;
    size += arrayHeaderSize(count * 3);
    if (count > DEFAULT_WIRE_LIMITS.maxEntries) {
      throw overLimit(
        `entry list has ${count * 3} items, over the limit of ${DEFAULT_WIRE_LIMITS.maxEntries * 3}`,
        0,
      );
    }
    const limit = runtime.maxContextSize;
    if (size > limit) throw tooLarge(size, limit, 'deserialize');
    return assemble(registry, changes.chain, base.bytes, kept, changes.bytes, changed, {});
  } catch (error) {
    throw asDecodeError(error);
  }
}

function named(entries: readonly RawEntry[], name: string): boolean {
  for (const entry of entries) if (entry.name === name) return true;
  return false;
}

/** Bytes of the MessagePack header of an array of `length` items. */
function arrayHeaderSize(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5;
}

/**
 * The snapshot of located entries: those of `entries` in `bytes`, then those of `more` in
 * `moreBytes` (when given). Every known key gets a lazily decoded `WireValue`, the others become
 * opaque entries (see `deserialize` for the rules).
 */
function assemble(
  registry: Registry,
  chain: readonly string[],
  bytes: Uint8Array,
  entries: readonly RawEntry[],
  moreBytes: Uint8Array | null,
  more: readonly RawEntry[] | null,
  options: DeserializeOptions,
): Snapshot {
  const eager = options.onDecodeError === 'throw';
  const report: DropReporter = options.onDroppedEntry ?? warnDropped;
  const values = new Array<unknown>(registry.size).fill(undefined);
  let opaque: OpaqueEntry[] | null = null;
  let unknownNames: Set<string> | null = null;
  let taken = false;
  for (let part = 0; part < 2; part++) {
    const source = part === 0 ? entries : more;
    if (source === null) break;
    if (part === 1) bytes = moreBytes!;
    for (const entry of source) {
      const definition = registry.byName(entry.name);
      let reason: OpaqueEntry['reason'] | undefined;
      if (definition === undefined) {
        unknownNames ??= new Set();
        if (unknownNames.has(entry.name)) throw duplicate(entry);
        unknownNames.add(entry.name);
        reason = 'unknown-key';
      } else {
        const index = definition.index;
        if (values[index] !== undefined) throw duplicate(entry);
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
          values[index] = eager
            ? decodeEntry(bytes, entry, definition)
            : new WireValue(bytes, entry, definition, report);
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
  }
  if (taken) for (let i = 0; i < values.length; i++) if (values[i] === TAKEN) values[i] = undefined;
  return new Snapshot(values, chainFromNames(chain), opaque);
}

function duplicate(entry: RawEntry): DContextError {
  return malformed(`key '${entry.name}' appears twice`, entry.start);
}
