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
export function encodeRecord(record: SharedRecord): Buffer {
  return encodeFields(record, serialize(record.entries));
}

function encodeFields(record: Omit<SharedRecord, 'entries'>, entries: Uint8Array): Buffer {
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

/**
 * A record this process has just encoded: its entries are read back from the stored bytes on the
 * first access of `entries` (a commit's result is often never read: measured ~2 µs of a put).
 * They are this process's own encoding, so they are decoded lazily like any trusted wire input.
 */
class CommittedRecord implements SharedRecord {
  readonly id: string;
  readonly version: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
  readonly #bytes: Uint8Array;
  #entries: Snapshot | undefined;

  constructor(fields: Omit<SharedRecord, 'entries'>, bytes: Uint8Array) {
    this.id = fields.id;
    this.version = fields.version;
    this.updatedAt = fields.updatedAt;
    this.updatedBy = fields.updatedBy;
    this.#bytes = bytes;
    Object.freeze(this);
  }

  get entries(): Snapshot {
    // Private fields stay writable on a frozen object: the decode is memoized.
    this.#entries ??= deserialize(this.#bytes);
    return this.#entries;
  }
}

/**
 * The record `write` commits as version `expectedVersion + 1`, and its stored bytes. Throws
 * `CONTEXT_TOO_LARGE` / `ENCODE_FAILED` like `serialize`, before anything is sent.
 */
export function encodeCommit(
  id: string,
  entries: Snapshot,
  version: number,
  updatedBy: string,
): { readonly bytes: Buffer; readonly record: SharedRecord } {
  const wire = serialize(entries);
  const fields = { id, version, updatedAt: Date.now(), updatedBy };
  const bytes = encodeFields(fields, wire);
  return { bytes, record: new CommittedRecord(fields, wire) };
}

/** A read position in a record's bytes (a class, not closures: `readFast` runs on every `get`). */
class Cursor {
  at = 2;
  constructor(readonly view: Buffer) {}

  need(n: number): boolean {
    return this.at + n <= this.view.length;
  }

  /** A length from a 1-, 2- or 4-byte big-endian field after the tag, or -1. */
  length(tag8: number, tag16: number, tag32: number): number {
    const { view, at } = this;
    const tag = view[at];
    if (tag === tag8 && this.need(2)) {
      this.at += 2;
      return view[at + 1]!;
    }
    if (tag === tag16 && this.need(3)) {
      this.at += 3;
      return view.readUInt16BE(at + 1);
    }
    if (tag === tag32 && this.need(5)) {
      this.at += 5;
      return view.readUInt32BE(at + 1);
    }
    return -1;
  }

  str(): string | undefined {
    if (!this.need(1)) return undefined;
    const tag = this.view[this.at]!;
    let length: number;
    if ((tag & 0xe0) === 0xa0) {
      length = tag & 0x1f;
      this.at += 1;
    } else length = this.length(0xd9, 0xda, 0xdb);
    if (length < 0 || !this.need(length)) return undefined;
    const text = this.view.toString('utf8', this.at, this.at + length);
    this.at += length;
    return text;
  }

  float(): number | undefined {
    if (!this.need(9) || this.view[this.at] !== 0xcb) return undefined;
    const value = this.view.readDoubleBE(this.at + 1);
    this.at += 9;
    return value;
  }
}

/** The six fields read in the layout `encodeRecord` writes, or `undefined` for any other form. */
function readFast(bytes: Uint8Array): unknown[] | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 2 || view[0] !== 0x96) return undefined;
  const cursor = new Cursor(view);
  const id = cursor.str();
  const version = cursor.float();
  const updatedAt = cursor.float();
  const updatedBy = cursor.str();
  if (
    id === undefined ||
    version === undefined ||
    updatedAt === undefined ||
    updatedBy === undefined ||
    !cursor.need(1)
  ) {
    return undefined;
  }
  const length = cursor.length(0xc4, 0xc5, 0xc6);
  const at = cursor.at;
  if (length < 0 || at + length !== view.length) return undefined;
  return [view[1], id, version, updatedAt, updatedBy, bytes.subarray(at, at + length)];
}

/** Entries of a stored record are decoded now: a bad one fails `get`, not a later read. */
const EAGER = Object.freeze({ onDecodeError: 'throw' as const });

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
    snapshot = deserialize(entries, trusted ? undefined : EAGER);
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
