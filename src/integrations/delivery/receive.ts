/**
 * The consumer side shared by `dcontext/bullmq` and `dcontext/nats`: the options, checked once,
 * and each delivery's inbound context, read all or nothing into a fresh scope.
 */

// Internal, for one ALS frame per delivery instead of two (withContext + scope).
import { runInSnapshotScope } from '../../async/async-context.js';
import {
  DContextError,
  type DeserializeOptions,
  deserialize,
  isDContextError,
  type SigningKey,
  Snapshot,
} from '../../index.js';
import { resolveDeserializeOptions } from '../../wire/options.js';
import {
  describe,
  invalid,
  keyListOption,
  optionalFunction,
  optionsObject,
} from '../http/check.js';
import type { KeyList, ReceiveOptions } from './types.js';

/** `ReceiveOptions` resolved. */
export interface Receiver<T> {
  readonly accept: 'all' | 'none' | KeyList;
  readonly verifyKeys: readonly SigningKey[] | undefined;
  readonly onError: (error: DContextError, item: T) => void;
  /** Where warnings come from, for the default `onError`: `'bullmq'`, `'nats'`. */
  readonly source: string;
  /** `deserialize`'s options, made once; dropped entries go to {@link droppedSink}. */
  readonly decode: DeserializeOptions;
}

// Where the entries `deserialize` drops go, during the one synchronous call of readInbound that
// is running (eager decoding reports them before it returns): the options are made once.
let droppedSink: DContextError[] = [];

/** By default each error code warns once per process and integration. */
const warned = new Set<string>();

function warnOnce(source: string, error: DContextError): void {
  const code = `DCONTEXT_${source.toUpperCase()}_${error.code}`;
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(
    `${error.message} (dcontext/${source}: further ${error.code} errors are not shown; pass onError to see each)`,
    { type: 'DContextWarning', code },
  );
}

/** Checks the receive options of `door` (`INVALID_ARGUMENT`) and resolves their defaults. */
export function resolveReceiver<T>(
  object: ReceiveOptions<T>,
  door: string,
  source: string,
): Receiver<T> {
  const verifyKeys = object.verifyKeys;
  if (verifyKeys !== undefined && (!Array.isArray(verifyKeys) || verifyKeys.length === 0)) {
    throw invalid(
      `${door} option verifyKeys must be a non-empty list of keys (the current one first)`,
    );
  }
  const onError = optionalFunction<Receiver<T>['onError']>(
    object.onError,
    `${door} option onError`,
  );
  const accept = keyListOption(object.accept, 'all', `${door} option accept`);
  if (verifyKeys !== undefined) {
    // Each key checked now: a key that is not one would refuse every delivery's context later.
    try {
      resolveDeserializeOptions({ verifyKeys });
    } catch (error) {
      throw invalid(
        `${door} option verifyKeys: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return {
    accept,
    verifyKeys,
    onError: onError ?? ((error) => warnOnce(source, error)),
    source,
    decode: {
      accept,
      onDecodeError: 'throw',
      onDroppedEntry: (error) => droppedSink.push(error),
      ...(verifyKeys === undefined ? {} : { verifyKeys }),
    },
  };
}

/** The options object of `door`, checked to be an object. */
export function checkedOptions<O extends object>(options: unknown, door: string): Partial<O> {
  return optionsObject<O>(options, door);
}

/** One of `allowed`, or `fallback` when absent; `INVALID_ARGUMENT` otherwise. */
export function choice<C extends string>(
  value: unknown,
  allowed: readonly C[],
  fallback: C,
  what: string,
): C {
  if (value === undefined) return fallback;
  if (allowed.includes(value as C)) return value as C;
  throw invalid(
    `${what} must be ${allowed.map((c) => `'${c}'`).join(' or ')} (got ${describe(value)})`,
  );
}

/** Calls `onError`, never letting it throw into the consumer. */
export function report<T>(receiver: Receiver<T>, error: DContextError, item: T): void {
  try {
    receiver.onError(error, item);
  } catch (thrown) {
    process.emitWarning(`dcontext/${receiver.source} onError threw: ${String(thrown)}`, {
      type: 'DContextWarning',
      code: `DCONTEXT_${receiver.source.toUpperCase()}_ON_ERROR`,
    });
  }
}

/** A non-DContextError thrown while reading a context, as `DECODE_FAILED`. */
export function asContextError(error: unknown, what: string): DContextError {
  if (isDContextError(error)) return error;
  return new DContextError(
    'DECODE_FAILED',
    `cannot read ${what}: ${error instanceof Error ? error.message : String(error)}`,
    undefined,
    { cause: error },
  );
}

/** The outcome of reading one delivery's context. */
export type Inbound =
  | { readonly ok: true; readonly snapshot: Snapshot }
  | { readonly ok: false; readonly error: DContextError };

/**
 * Reads `input` (the carried context; undefined when there is none) for `item`: every entry is
 * decoded now, so a bad one refuses the whole context. Dropped (not accepted) entries are
 * reported; a refused context is reported and returned as `ok: false`. Never throws.
 */
export function readInbound<T>(
  receiver: Receiver<T>,
  input: unknown,
  item: T,
  what: string | (() => string),
): Inbound {
  if (input === undefined || input === null || input === '') {
    return { ok: true, snapshot: Snapshot.empty() };
  }
  const describeInput = () => (typeof what === 'string' ? what : what());
  const dropped: DContextError[] = [];
  try {
    if (typeof input !== 'string') {
      throw new DContextError(
        'DECODE_FAILED',
        `${describeInput()} is not a string (got ${describe(input)})`,
      );
    }
    let snapshot: Snapshot;
    droppedSink = dropped;
    try {
      snapshot = deserialize(input, receiver.decode);
    } finally {
      droppedSink = [];
    }
    for (const error of dropped) report(receiver, error, item);
    return { ok: true, snapshot: receiver.accept === 'none' ? Snapshot.empty() : snapshot };
  } catch (thrown) {
    const error = asContextError(thrown, describeInput());
    report(receiver, error, item);
    return { ok: false, error };
  }
}

/**
 * Runs `fn` in a fresh scope named `name` whose values and chain prefix are `snapshot`'s and
 * nothing else: never the caller's context (a consumer loop may run in any ambient scope, such
 * as the previous delivery's).
 */
export function runFresh<R>(snapshot: Snapshot, name: string, fn: () => R): R {
  // One frame and one AsyncLocalStorage.run per delivery (as the HTTP ingress does), not a
  // withContext frame that nobody sees plus a scope inside it.
  return runInSnapshotScope(snapshot, name, fn);
}
