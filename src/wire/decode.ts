/**
 * Bytes or a base64url string back into a `Snapshot`. The input is size-checked (not copied),
 * its framing parsed and every payload bounded by the pre-scan; payloads are then decoded
 * lazily (one `WireValue` per slot) or, with `onDecodeError: 'throw'`, right away.
 */
import { DContextError, isDContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry } from '../registry/registry.js';
import { emptySlots, entryAt, type OpaqueEntry, putDeferred } from '../store/frame.js';
import { chainFromNames } from '../store/scope-chain.js';
import { Snapshot } from '../store/snapshot.js';
import { decodeEntry, entryError } from './decode-entry.js';
import { CodecTag, headerCodec, headerVersion } from './format.js';
import { resolveLimits, tooLarge } from './limits.js';
import { parseContext, type RawEntry } from './parse.js';
import { malformed } from './scan.js';
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

/** The default `onDroppedEntry`: reports an unusable entry as a `DContextWarning`. */
export function warnDropped(error: DContextError): void {
  process.emitWarning(error.message, { type: 'DContextWarning', code: 'DCONTEXT_DECODE' });
}

/** Any failure as the `DECODE_FAILED` the contract promises. */
export function asDecodeError(error: unknown): DContextError {
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
