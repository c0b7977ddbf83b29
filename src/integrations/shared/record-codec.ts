/**
 * A record as stored: MessagePack `[format, id, version, updatedAt, updatedBy, entries]`, where
 * `entries` is the wire format's bytes (`serialize`), so every wire rule applies to stored values.
 */
import { decode, encode } from '@msgpack/msgpack';
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

/** A record in memory with the bytes it was stored as. */
export function encodeRecord(record: SharedRecord): Uint8Array {
  const entries = serialize(record.entries);
  return encode([
    RECORD_FORMAT,
    record.id,
    record.version,
    record.updatedAt,
    record.updatedBy,
    entries,
  ]);
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
 * The record stored as `bytes` for `id`. Throws `DECODE_FAILED` when the bytes are not a record,
 * belong to another id, come from a newer record format, or hold an entry that fails to decode,
 * migrate or validate (entries are decoded now, not on first read).
 */
export function decodeRecord(id: string, bytes: Uint8Array): SharedRecord {
  let parts: unknown;
  try {
    parts = decode(bytes);
  } catch (cause) {
    throw corrupt(id, 'not MessagePack', cause);
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
    snapshot = deserialize(entries, { onDecodeError: 'throw' });
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
