/** Argument checks of `dcontext/shared`: `INVALID_ARGUMENT`, saying the fix. */
import { hostname } from 'node:os';
import { DContextError, Snapshot } from '../../index.js';
import type { SharedWrite } from './types.js';

/** An `INVALID_ARGUMENT` error with `message`. */
export function invalid(message: string): DContextError {
  return new DContextError('INVALID_ARGUMENT', message);
}

/** A short description of a value for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/** The options object, or `{}` for null/undefined. */
export function optionsObject<T extends object>(options: unknown, door: string): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`${door} options must be an object (got ${describe(options)})`);
  }
  return options as Partial<T>;
}

/** Longest id accepted: ids become Redis key names and pub/sub messages. */
const MAX_ID_LENGTH = 512;

/** Checks a shared context id: a non-empty string of at most 512 characters. */
export function checkId(id: unknown, door: string): string {
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) {
    throw invalid(
      `${door} needs a shared context id: a non-empty string of at most ${MAX_ID_LENGTH} characters (got ${describe(id)})`,
    );
  }
  return id;
}

/** An integer option within bounds, or its default. */
export function intOption(value: unknown, fallback: number, min: number, what: string): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !(Number.isInteger(value) || value === Number.POSITIVE_INFINITY) ||
    value < min
  ) {
    throw invalid(`${what} must be an integer >= ${min} (got ${describe(value)})`);
  }
  return value;
}

/** Checks a write handed to a store's `put`. */
export function checkWrite(write: unknown, door: string): SharedWrite {
  if (typeof write !== 'object' || write === null) {
    throw invalid(
      `${door} needs a write { id, entries, expectedVersion } (got ${describe(write)})`,
    );
  }
  const { id, entries, expectedVersion, updatedBy } = write as Partial<SharedWrite>;
  checkId(id, door);
  if (!(entries instanceof Snapshot)) {
    throw invalid(`${door}: entries must be a Snapshot (Snapshot.empty().with(key, value))`);
  }
  if (
    typeof expectedVersion !== 'number' ||
    !Number.isSafeInteger(expectedVersion) ||
    expectedVersion < 0
  ) {
    throw invalid(
      `${door}: expectedVersion must be an integer >= 0 (0: the context does not exist yet)`,
    );
  }
  if (updatedBy !== undefined && typeof updatedBy !== 'string') {
    throw invalid(`${door}: updatedBy must be a string`);
  }
  return write as SharedWrite;
}

/** Who commits, when the caller does not say: `<hostname>:<pid>`. */
export const DEFAULT_WRITER = `${hostname()}:${process.pid}`;
