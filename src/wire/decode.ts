/**
 * Bytes or a base64url string back into a `Snapshot`. The input is size-checked (not copied),
 * its framing parsed and every payload bounded by the pre-scan; payloads are then decoded
 * lazily (one `WireValue` per slot) or, with `onDecodeError: 'throw'`, right away.
 */
import { causeText, DContextError, isDContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry } from '../registry/registry.js';
import { emptySlots, entryAt, putDeferred } from '../store/deferred-entries.js';
import type { OpaqueEntry } from '../store/frame-shape.js';
import { chainFromNames } from '../store/scope-chain.js';
import { Snapshot } from '../store/snapshot.js';
import { decodeEntry, entryError } from './decode-entry.js';
import { CodecTag, headerCodec, headerVersion } from './format.js';
import { tooLarge } from './limits.js';
import { type Acceptance, resolveDeserializeOptions } from './options.js';
import { parseContext, type RawEntry } from './parse.js';
import { malformed } from './scan.js';
import { verifySignature } from './signature.js';
import type { DeserializeOptions } from './types.js';
import { type DropReporter, WireValue } from './wire-value.js';

const PAD = 0x3d;

/**
 * The input bytes, after the size check. Not copied: entries keep a view of them until they
 * are decoded, so the caller must not reuse the buffer while the snapshot lives (a copy would
 * cost more than the whole lazy decode of a typical context).
 */
/** The `DECODE_FAILED` error for a string that is not base64, saying where (error path only). */
function notBase64(input: string): DContextError {
  const bad = /[^A-Za-z0-9\-_+/=]/.exec(input);
  const detail =
    bad !== null
      ? `character ${JSON.stringify(bad[0])} at index ${bad.index} is in neither alphabet`
      : `its length (${input.length}) or padding is not that of base64`;
  return new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context: the string is not base64url (nor standard base64): ${detail}; the input is not dcontext wire data, or it was truncated or altered`,
  );
}

export function inputBytes(input: unknown, limit: number): Uint8Array {
  if (typeof input === 'string') {
    // Base64url as written, or standard base64 (`+`, `/`, `=` padding) as proxies and other
    // languages' encoders often re-emit it: Node's decoder reads both alphabets.
    let length = input.length;
    if (length > 0 && input.charCodeAt(length - 1) === PAD) length--;
    if (length > 0 && input.charCodeAt(length - 1) === PAD) length--;
    const size = Math.floor((length * 3) / 4);
    if (size > limit) throw tooLarge(size, limit, 'deserialize');
    // Node's decoder stops at (or skips) characters outside the alphabets, so a short result
    // means the string was not base64 (a regex test would cost more than the decoding).
    const buffer = Buffer.from(input, 'base64url');
    if (
      buffer.length !== size ||
      length % 4 === 1 ||
      (length !== input.length && input.length % 4 !== 0)
    ) {
      throw notBase64(input);
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
  const code = error.code === 'NOT_ACCEPTED' ? 'DCONTEXT_NOT_ACCEPTED' : 'DCONTEXT_DECODE';
  process.emitWarning(error.message, { type: 'DContextWarning', code });
}

/** The `NOT_ACCEPTED` report of an entry the receiver's `accept` option does not name. */
function notAccepted(name: string): DContextError {
  return new DContextError(
    'NOT_ACCEPTED',
    `context entry '${name}' from the wire was dropped: this receiver does not accept it from this input (deserialize option accept)`,
    name,
  );
}

/**
 * How many dropped entries one decode reports one by one. Past it, the rest are counted into
 * one summary: an error is an object with a stack trace (microseconds each), and a hostile
 * header of a thousand tiny unknown entries under `accept: 'none'` made a thousand of them,
 * ~20 ms of CPU per request.
 */
export const MAX_REPORTED_DROPS = 16;

/** How many entries each summary report stands for (a report not in here stands for one). */
const summarized = new WeakMap<DContextError, number>();

/** How many dropped entries `error` (a report to `onDroppedEntry`) stands for. */
export function droppedEntries(error: DContextError): number {
  return summarized.get(error) ?? 1;
}

function moreNotAccepted(count: number): DContextError {
  const error = new DContextError(
    'NOT_ACCEPTED',
    `${count} more context entries from the wire were dropped: this receiver does not accept them from this input (deserialize option accept; only the first ${MAX_REPORTED_DROPS} are named)`,
  );
  summarized.set(error, count);
  return error;
}

function accepts(accept: Acceptance, name: string): boolean {
  // `typeof` first: comparing a Set with a string took V8's generic StrictEqual call per entry.
  return typeof accept === 'string' ? accept === 'all' : accept.has(name);
}

/** Any failure as the `DECODE_FAILED` the contract promises. */
export function asDecodeError(error: unknown): DContextError {
  if (isDContextError(error)) return error;
  return new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context: ${causeText(error)}`,
    undefined,
    { cause: error },
  );
}

/**
 * Holds, while the entries are read, the slot of a known key whose entry was seen but not decoded
 * (kept opaque or dropped), so a second entry of that key is caught as a duplicate.
 */
const SEEN_NOT_DECODED: unique symbol = Symbol('seen, not decoded');

/** Parses `input` into a snapshot; see `deserialize` for the contract. */
export function decodeSnapshot(input: unknown, options?: DeserializeOptions | null): Snapshot {
  const registry = currentRegistry();
  const resolved = resolveDeserializeOptions(options);
  const { limits, eager, accept } = resolved;
  const report: DropReporter = resolved.report ?? warnDropped;
  try {
    let bytes = inputBytes(input, runtime.maxContextSize);
    if (resolved.verifyKeys !== undefined) {
      bytes = bytes.subarray(0, verifySignature(bytes, resolved.verifyKeys));
    }
    const { chain, entries } = parseContext(bytes, limits);
    // Decoded lazily, entries wait past the slots (see store/frame.ts): room for them up front.
    const size = registry.size;
    const values = emptySlots(eager || entries.length === 0 ? size : 2 * size);
    let opaque: OpaqueEntry[] | null = null;
    let unknownNames: Set<string> | null = null;
    let seenNotDecoded = false;
    let refused = 0; // entries not accepted: the first MAX_REPORTED_DROPS named, the rest counted
    const refuse = (name: string): void => {
      if (++refused <= MAX_REPORTED_DROPS) report(notAccepted(name));
    };
    for (const entry of entries) {
      const definition = registry.byName(entry.name);
      let reason: OpaqueEntry['reason'] | undefined;
      if (definition === undefined) {
        unknownNames ??= new Set();
        if (unknownNames.has(entry.name)) throw duplicate(entry);
        unknownNames.add(entry.name);
        if (!accepts(accept, entry.name)) {
          refuse(entry.name);
          continue;
        }
        reason = 'unknown-key';
      } else {
        const index = definition.index;
        if (entryAt(values, index) !== undefined) throw duplicate(entry);
        const version = headerVersion(entry.header);
        if (!accepts(accept, entry.name)) refuse(entry.name);
        else if (headerCodec(entry.header) === CodecTag.reserved) reason = 'unknown-codec';
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
        values[index] = SEEN_NOT_DECODED;
        seenNotDecoded = true;
      }
      if (reason !== undefined && !resolved.dropUnknown) {
        const raw = bytes.subarray(entry.start, entry.end);
        const version = headerVersion(entry.header);
        (opaque ??= []).push({ name: entry.name, version, raw, reason });
      }
    }
    if (seenNotDecoded)
      for (let i = 0; i < size; i++) if (values[i] === SEEN_NOT_DECODED) values[i] = undefined;
    if (refused > MAX_REPORTED_DROPS) report(moreNotAccepted(refused - MAX_REPORTED_DROPS));
    return new Snapshot(values, chainFromNames(chain), opaque);
  } catch (error) {
    throw asDecodeError(error);
  }
}

function duplicate(entry: RawEntry): DContextError {
  return malformed(`key '${entry.name}' appears twice`, entry.start);
}
