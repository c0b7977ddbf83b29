/**
 * The checks at the public wire doors: arguments of the wrong type and option values that mean
 * nothing are `INVALID_ARGUMENT` (saying what was expected), never a raw `TypeError`; `null` and
 * `undefined` options mean "no options". Bad *content* of an input stays `DECODE_FAILED`.
 */
import { causeText, DContextError } from '../errors.js';
import { Snapshot } from '../store/snapshot.js';
import { DEFAULT_WIRE_LIMITS, resolveLimits, type WireLimits } from './limits.js';
import { type HmacKey, hmacKey } from './signature.js';
import type { DeserializeOptions, SerializeOptions } from './types.js';

function invalid(message: string): DContextError {
  return new DContextError('INVALID_ARGUMENT', message);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/**
 * Runs `read` (which reads a caller's argument) and answers an error thrown by the argument
 * itself (a getter or a Proxy trap) as `INVALID_ARGUMENT`, not as the raw error.
 */
function readArgument<T>(read: () => T, door: string): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DContextError) throw error;
    throw new DContextError(
      'INVALID_ARGUMENT',
      `${door}: reading an argument threw (${causeText(error)}); pass plain values`,
      undefined,
      { cause: error },
    );
  }
}

/** `options` as an object, or undefined for `null`/`undefined`. */
function optionsObject<T>(options: unknown, door: string): T | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`${door} options must be an object (got ${describeValue(options)})`);
  }
  return options as T;
}

/** Throws `INVALID_ARGUMENT` unless `snapshot` is a Snapshot or undefined (the current context). */
export function checkSnapshot(snapshot: unknown, door: string): void {
  if (snapshot !== undefined && !readArgument(() => snapshot instanceof Snapshot, door)) {
    throw invalid(
      `${door} expects a Snapshot (from snapshot() or deserialize()), or nothing for the current context (got ${describeValue(snapshot)})`,
    );
  }
}

/** Throws `INVALID_ARGUMENT` unless `input` is a string or bytes. */
export function checkInput(input: unknown): void {
  if (typeof input !== 'string' && !ArrayBuffer.isView(input)) {
    throw invalid(
      `deserialize expects the Uint8Array from serialize() or the string from serializeToString() (got ${describeValue(input)})`,
    );
  }
}

/** `serialize`'s options, checked and resolved. */
export interface ResolvedSerializeOptions {
  /** Undefined when the message is not signed. */
  readonly signingKey: HmacKey | undefined;
  /** The names of the keys to send; undefined for every key. */
  readonly keys: ReadonlySet<string> | undefined;
}

const SERIALIZE_DEFAULTS: ResolvedSerializeOptions = Object.freeze({
  signingKey: undefined,
  keys: undefined,
});

/** Checks and resolves `serialize` options; `INVALID_ARGUMENT` on a value that means nothing. */
export function resolveSerializeOptions(options: unknown, door: string): ResolvedSerializeOptions {
  return readArgument(() => readSerializeOptions(options, door), door);
}

function readSerializeOptions(options: unknown, door: string): ResolvedSerializeOptions {
  const object = optionsObject<SerializeOptions>(options, door);
  if (object === undefined) return SERIALIZE_DEFAULTS;
  const signingKey =
    object.signingKey === undefined ? undefined : hmacKey(object.signingKey, `${door} signingKey`);
  const keys = object.keys;
  if (keys === undefined || keys === 'all') return { signingKey, keys: undefined };
  if (!Array.isArray(keys)) {
    throw invalid(
      `${door} option keys must be 'all' or a list of key names or ContextKeys (got ${describeValue(keys)})`,
    );
  }
  return { signingKey, keys: keyNames(keys, `${door} option keys`) };
}

/** The names in a list of key names or `ContextKey`s; `INVALID_ARGUMENT` on anything else. */
function keyNames(list: readonly unknown[], what: string): Set<string> {
  const names = new Set<string>();
  for (const item of list) {
    const name: unknown =
      typeof item === 'string' ? item : (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') {
      throw invalid(`${what} lists ${describeValue(item)}; list key names or ContextKeys`);
    }
    names.add(name);
  }
  return names;
}

/** Which keys an input may set: every key, none, or the named ones. */
export type Acceptance = 'all' | 'none' | ReadonlySet<string>;

/** `deserialize`'s options, checked and resolved. */
export interface ResolvedDeserializeOptions {
  readonly limits: WireLimits;
  readonly eager: boolean;
  readonly report: ((error: DContextError) => void) | undefined;
  readonly dropUnknown: boolean;
  readonly accept: Acceptance;
  readonly verifyKeys: readonly HmacKey[] | undefined;
}

const DEFAULTS: ResolvedDeserializeOptions = Object.freeze({
  limits: DEFAULT_WIRE_LIMITS,
  eager: false,
  report: undefined,
  dropUnknown: false,
  accept: 'all',
  verifyKeys: undefined,
});

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw invalid(
      `${what} must be ${allowed.map((a) => `'${a}'`).join(' or ')} (got ${describeValue(value)})`,
    );
  }
  return value as T;
}

function acceptance(accept: unknown): Acceptance {
  if (accept === undefined || accept === 'all') return 'all';
  if (accept === 'none') return 'none';
  if (!Array.isArray(accept)) {
    throw invalid(
      `deserialize option accept must be 'all', 'none' or a list of key names or ContextKeys (got ${describeValue(accept)})`,
    );
  }
  return keyNames(accept, 'deserialize option accept');
}

/**
 * Options objects frozen with their `accept` and `verifyKeys` lists, resolved once: a server that
 * decodes each request's header with the same options (dcontext/http does) does not rebuild the
 * accepted names every time. Unfrozen objects are read afresh on each call, as they may change.
 */
const resolvedFrozen = new WeakMap<object, ResolvedDeserializeOptions>();

function deeplyFrozen(options: DeserializeOptions): boolean {
  return (
    Object.isFrozen(options) &&
    (options.accept === undefined || Object.isFrozen(options.accept)) &&
    (options.verifyKeys === undefined || Object.isFrozen(options.verifyKeys)) &&
    (options.limits === undefined || Object.isFrozen(options.limits))
  );
}

/** Checks and resolves `deserialize` options; `INVALID_ARGUMENT` on a value that means nothing. */
export function resolveDeserializeOptions(options: unknown): ResolvedDeserializeOptions {
  if (options === undefined || options === null) return DEFAULTS;
  const cached = typeof options === 'object' ? resolvedFrozen.get(options) : undefined;
  if (cached !== undefined) return cached;
  const resolved = readArgument(() => readDeserializeOptions(options), 'deserialize');
  if (deeplyFrozen(options as DeserializeOptions)) resolvedFrozen.set(options as object, resolved);
  return resolved;
}

function readDeserializeOptions(options: unknown): ResolvedDeserializeOptions {
  const object = optionsObject<DeserializeOptions>(options, 'deserialize');
  if (object === undefined) return DEFAULTS;
  const onDecodeError = oneOf(object.onDecodeError, ['drop', 'throw'], 'onDecodeError');
  const unknownEntries = oneOf(object.unknownEntries, ['keep', 'drop'], 'unknownEntries');
  const report = object.onDroppedEntry;
  if (report !== undefined && typeof report !== 'function') {
    throw invalid(`onDroppedEntry must be a function (got ${describeValue(report)})`);
  }
  const limits = object.limits;
  if (limits !== undefined && (limits === null || typeof limits !== 'object')) {
    throw invalid(`limits must be an object of WireLimits (got ${describeValue(limits)})`);
  }
  const verify: unknown = object.verifyKeys;
  let verifyKeys: HmacKey[] | undefined;
  if (verify !== undefined) {
    if (!Array.isArray(verify) || verify.length === 0) {
      throw invalid('verifyKeys must be a non-empty list of keys (the current one first)');
    }
    // Array.from, not map: a hole must be checked too (map skips it, and createHmac threw later).
    verifyKeys = Array.from(verify, (key: unknown) => hmacKey(key, 'deserialize verifyKeys'));
  }
  return {
    limits: resolveLimits(limits),
    eager: onDecodeError === 'throw',
    report,
    dropUnknown: unknownEntries === 'drop',
    accept: acceptance(object.accept),
    verifyKeys,
  };
}
