/** Argument checks of `dcontext/shared`: `INVALID_ARGUMENT`, saying the fix. */
import { hostname } from 'node:os';
import { Snapshot } from '../../index.js';
// One set of option checks for every integration (plain checks, no peer imports).
import { describe, invalid, optionsObject } from '../http/check.js';
import type { SharedWrite } from './types.js';

export { describe, invalid, optionsObject };

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
    expectedVersion < 0 ||
    expectedVersion >= Number.MAX_SAFE_INTEGER
  ) {
    throw invalid(
      `${door}: expectedVersion must be an integer >= 0 (0: the context does not exist yet) whose next version is a safe integer`,
    );
  }
  if (updatedBy !== undefined && typeof updatedBy !== 'string') {
    throw invalid(`${door}: updatedBy must be a string`);
  }
  return write as SharedWrite;
}

/** Who commits, when the caller does not say: `<hostname>:<pid>`. */
export const DEFAULT_WRITER = `${hostname()}:${process.pid}`;
