/** `DContextPropagator`'s options, checked (`INVALID_ARGUMENT`, saying the fix) and resolved once. */
import type {
  DContextError,
  DeserializeOptions,
  SerializeOptions,
  SigningKey,
} from '../../index.js';
import {
  headerName,
  invalid,
  keyListOption,
  optionalFunction,
  optionsObject,
} from '../http/check.js';

/** A list of key names or `ContextKey`s. */
export type KeyList = readonly (string | { readonly name: string })[];

/** Options of {@link DContextPropagator}. */
export interface DContextPropagatorOptions {
  /** The header carrying the serialized context. Default `'x-dcontext'` (as `dcontext/http`). */
  readonly header?: string;
  /**
   * Which keys `extract` may set, from the context header and from `baggage`: `'none'` (default:
   * a service that faces the internet must not take a tenant from a stranger), `'all'` (between
   * services that trust each other), or a list of key names or `ContextKey`s. Other entries are
   * dropped and reported to `onError` as `NOT_ACCEPTED`. With `'none'` nothing is taken.
   */
  readonly accept?: 'none' | 'all' | KeyList;
  /**
   * Which keys `inject` sends, in the context header and in `baggage`: `'all'` (default), `'none'`
   * or a list. Local-only keys never leave. There is no `to` here (a propagator is not told the
   * destination): where a process also calls third parties through instrumented clients, set
   * `send` to what they may see, or leave the propagator out of the global one.
   */
  readonly send?: 'all' | 'none' | KeyList;
  /**
   * Whether keys registered with `metadata: { baggage: '<name>' }` travel in the W3C `baggage`
   * header too (string values only, W3C limits both ways). Default `true`.
   */
  readonly baggage?: boolean;
  /**
   * Receives each `DContextError` of `extract` (a malformed, oversize, duplicated or forged context
   * header; a `NOT_ACCEPTED` entry; a baggage value a key's `validate` refuses) and of `inject` (a
   * context too large to send). Neither ever throws. Default: one `DContextWarning` per error
   * code and process, then silence.
   */
  readonly onError?: (error: DContextError) => void;
  /** HMAC keys the context header must be signed with (`deserialize`'s `verifyKeys`). */
  readonly verifyKeys?: readonly SigningKey[];
  /** Signs the context header that `inject` writes (`serialize`'s `signingKey`). */
  readonly signingKey?: SigningKey;
}

/** The options, resolved. */
export interface ResolvedPropagator {
  readonly header: string;
  readonly accept: 'none' | 'all' | KeyList;
  /** `serialize`'s options; undefined when no context header is sent (`send: 'none'`). */
  readonly serialize: SerializeOptions | undefined;
  readonly send: 'none' | 'all' | KeyList;
  readonly baggage: boolean;
  readonly onError: (error: DContextError) => void;
  readonly verifyKeys: readonly SigningKey[] | undefined;
}

/** By default each error code warns once per process: strangers must not fill the logs. */
const warned = new Set<string>();

function warnOnce(error: DContextError): void {
  if (warned.has(error.code)) return;
  warned.add(error.code);
  process.emitWarning(
    `${error.message} (dcontext/otel: further ${error.code} errors are not shown; pass onError to see each)`,
    { type: 'DContextWarning', code: `DCONTEXT_OTEL_${error.code}` },
  );
}

/** Checks `options` and resolves the defaults. */
export function resolvePropagator(options: unknown): ResolvedPropagator {
  const door = 'DContextPropagator';
  const object = optionsObject<DContextPropagatorOptions>(options, door);
  const send = keyListOption(object.send, 'all', `${door} option send`);
  const baggage = object.baggage ?? true;
  if (typeof baggage !== 'boolean') throw invalid(`${door} option baggage must be true or false`);
  const verifyKeys = object.verifyKeys;
  if (verifyKeys !== undefined && (!Array.isArray(verifyKeys) || verifyKeys.length === 0)) {
    throw invalid(
      `${door} option verifyKeys must be a non-empty list of keys (the current one first)`,
    );
  }
  const signing = object.signingKey === undefined ? {} : { signingKey: object.signingKey };
  return {
    header: headerName(object.header, 'x-dcontext', `${door} option header`),
    accept: keyListOption(object.accept, 'none', `${door} option accept`),
    serialize: send === 'none' ? undefined : { ...signing, keys: send },
    send,
    baggage,
    onError:
      optionalFunction<(error: DContextError) => void>(object.onError, `${door} option onError`) ??
      warnOnce,
    verifyKeys,
  };
}

/** `deserialize`'s options for one context header. */
export function decodeOptions(
  resolved: ResolvedPropagator,
  onDroppedEntry: (error: DContextError) => void,
): DeserializeOptions {
  const base = { accept: resolved.accept, onDecodeError: 'throw' as const, onDroppedEntry };
  return resolved.verifyKeys === undefined ? base : { ...base, verifyKeys: resolved.verifyKeys };
}

/** Whether `name` is within `list` (`'all'`, `'none'` or names and keys). */
export function inKeyList(list: 'all' | 'none' | KeyList, name: string): boolean {
  if (list === 'all') return true;
  if (list === 'none') return false;
  return list.some((entry) => (typeof entry === 'string' ? entry : entry.name) === name);
}
