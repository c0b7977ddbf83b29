/**
 * A record as stored: the MessagePack array `[format, id, version, updatedAt, updatedBy, entries]`,
 * where `entries` is the wire format's bytes (`serialize`), so every wire rule applies to stored
 * values. Written and read by hand for the layout this build writes (the generic MessagePack
 * decoder was measured at ~7 µs of a ~12 µs encode); any other valid MessagePack form of the
 * array is still read, through @msgpack/msgpack.
 */
import { decode } from '@msgpack/msgpack';
import {
  DContextError,
  deserialize,
  isDContextError,
  type Snapshot,
  serialize,
} from '../../index.js';
import type { SharedRecord } from './types.js';

/** The record layout this build writes, and the newest it reads. */
export const RECORD_FORMAT = 1;

function strHeader(length: number): number[] {
  if (length < 32) return [0xa0 | length];
  if (length < 0x100) return [0xd9, length];
  if (length < 0x10000) return [0xda, length >> 8, length & 0xff];
  return [0xdb, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

function binHeader(length: number): number[] {
  if (length < 0x100) return [0xc4, length];
  if (length < 0x10000) return [0xc5, length >> 8, length & 0xff];
  return [0xc6, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

/** The bytes `record` is stored as. Throws `CONTEXT_TOO_LARGE` / `ENCODE_FAILED` like `serialize`. */
export function encodeRecord(record: SharedRecord): Uint8Array {
  const entries = serialize(record.entries);
  const idLength = Buffer.byteLength(record.id);
  const byLength = Buffer.byteLength(record.updatedBy);
  const idHeader = strHeader(idLength);
  const byHeader = strHeader(byLength);
  const entriesHeader = binHeader(entries.length);
  const size =
    2 +
    idHeader.length +
    idLength +
    9 +
    9 +
    byHeader.length +
    byLength +
    entriesHeader.length +
    entries.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = 0x96; // fixarray of 6
  out[at++] = RECORD_FORMAT;
  for (const byte of idHeader) out[at++] = byte;
  at += out.write(record.id, at, 'utf8');
  out[at++] = 0xcb; // version and updatedAt as float64: exact for every safe integer
  at = out.writeDoubleBE(record.version, at);
  out[at++] = 0xcb;
  at = out.writeDoubleBE(record.updatedAt, at);
  for (const byte of byHeader) out[at++] = byte;
  at += out.write(record.updatedBy, at, 'utf8');
  for (const byte of entriesHeader) out[at++] = byte;
  out.set(entries, at);
  return out;
}

function corrupt(id: string, why: string, cause?: unknown): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `shared context '${id}' has a corrupt stored record (${why}); restore it with rollback() or delete it`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/** The six fields read in the layout `encodeRecord` writes, or `undefined` for any other form. */
function readFast(bytes: Uint8Array): unknown[] | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => at + n <= view.length;
  if (!need(2) || view[0] !== 0x96) return undefined;
  const format = view[1]!;
  at = 2;
  const str = (): string | undefined => {
    if (!need(1)) return undefined;
    const tag = view[at]!;
    let length: number;
    if ((tag & 0xe0) === 0xa0) {
      length = tag & 0x1f;
      at += 1;
    } else if (tag === 0xd9 && need(2)) {
      length = view[at + 1]!;
      at += 2;
    } else if (tag === 0xda && need(3)) {
      length = view.readUInt16BE(at + 1);
      at += 3;
    } else if (tag === 0xdb && need(5)) {
      length = view.readUInt32BE(at + 1);
      at += 5;
    } else return undefined;
    if (!need(length)) return undefined;
    const text = view.toString('utf8', at, at + length);
    at += length;
    return text;
  };
  const float = (): number | undefined => {
    if (!need(9) || view[at] !== 0xcb) return undefined;
    const value = view.readDoubleBE(at + 1);
    at += 9;
    return value;
  };
  const id = str();
  const version = float();
  const updatedAt = float();
  const updatedBy = str();
  if (
    id === undefined ||
    version === undefined ||
    updatedAt === undefined ||
    updatedBy === undefined
  ) {
    return undefined;
  }
  if (!need(1)) return undefined;
  const tag = view[at]!;
  let length: number;
  if (tag === 0xc4 && need(2)) {
    length = view[at + 1]!;
    at += 2;
  } else if (tag === 0xc5 && need(3)) {
    length = view.readUInt16BE(at + 1);
    at += 3;
  } else if (tag === 0xc6 && need(5)) {
    length = view.readUInt32BE(at + 1);
    at += 5;
  } else return undefined;
  if (at + length !== view.length) return undefined;
  return [format, id, version, updatedAt, updatedBy, bytes.subarray(at, at + length)];
}

/**
 * The record stored as `bytes` for `id`. Throws `DECODE_FAILED` when the bytes are not a record,
 * belong to another id, come from a newer record format, or hold an entry that fails to decode,
 * migrate or validate (entries are decoded now, not on first read). `trusted`: bytes this
 * process just encoded, whose entries are decoded lazily instead.
 */
export function decodeRecord(id: string, bytes: Uint8Array, trusted = false): SharedRecord {
  let parts = readFast(bytes);
  if (parts === undefined) {
    try {
      parts = decode(bytes) as unknown[];
    } catch (cause) {
      throw corrupt(id, 'not MessagePack', cause);
    }
  }
  if (!Array.isArray(parts) || parts.length < 6) throw corrupt(id, 'not a record');
  const [format, storedId, version, updatedAt, updatedBy, entries] = parts as unknown[];
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
    throw corrupt(id, 'no record format');
  }
  if (format > RECORD_FORMAT) {
    throw new DContextError(
      'DECODE_FAILED',
      `shared context '${id}' was stored in record format ${format} by a newer dcontext; this build reads format ${RECORD_FORMAT}: upgrade dcontext here`,
    );
  }
  if (storedId !== id) throw corrupt(id, `it is the record of ${JSON.stringify(storedId)}`);
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw corrupt(id, 'bad version');
  }
  if (typeof updatedAt !== 'number' || typeof updatedBy !== 'string') {
    throw corrupt(id, 'bad updatedAt or updatedBy');
  }
  if (!(entries instanceof Uint8Array)) throw corrupt(id, 'entries are not bytes');
  let snapshot: Snapshot;
  try {
    snapshot = deserialize(entries, trusted ? undefined : { onDecodeError: 'throw' });
  } catch (cause) {
    if (isDContextError(cause) && cause.code !== 'DECODE_FAILED') throw cause;
    throw new DContextError(
      'DECODE_FAILED',
      `shared context '${id}' version ${version}: ${(cause as Error).message}`,
      isDContextError(cause) ? cause.key : undefined,
      { cause },
    );
  }
  return Object.freeze({ id, entries: snapshot, version, updatedAt, updatedBy });
}
