/** `IngressOptions` checked and resolved once, when the middleware is made. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type DContextError,
  type DeserializeOptions,
  deserialize,
  type KeyRef,
  type SigningKey,
  type Snapshot,
} from '../../index.js';
import {
  describe,
  headerMap,
  headerName,
  invalid,
  isKeyRef,
  keyListOption,
  optionalFunction,
  optionsObject,
} from './check.js';
import type { IngressOptions, IngressReport, IngressRequestIdOptions, KeyList } from './types.js';

/** The request id part of an ingress, resolved. */
export interface ResolvedRequestId {
  readonly key: KeyRef;
  readonly header: string;
  readonly generate: () => string;
  readonly echo: boolean;
}

/** Everything an ingress needs per request. */
export interface Ingress {
  readonly name: string | ((req: IncomingMessage) => string);
  readonly header: string;
  /** Which keys the context header may set (`'none'`: none, and not the caller's scope chain). */
  readonly accept: 'none' | 'all' | KeyList;
  readonly verifyKeys: readonly SigningKey[] | undefined;
  readonly headers: readonly (readonly [string, KeyRef])[];
  readonly requestId: ResolvedRequestId | undefined;
  readonly reject: boolean;
  readonly onError: (error: DContextError, req: IncomingMessage, report: IngressReport) => void;
  /** `deserialize`'s options for the context header, made once (see decodeHeader). */
  readonly decode: DeserializeOptions;
}

function requestIdOption(value: unknown): ResolvedRequestId | undefined {
  if (value === undefined) return undefined;
  const options = optionsObject<IngressRequestIdOptions>(value, 'requestId');
  if (!isKeyRef(options.key)) {
    throw invalid(
      `requestId.key must be a ContextKey or a key name (got ${describe(options.key)})`,
    );
  }
  const echo = options.echo ?? true;
  if (typeof echo !== 'boolean') throw invalid('requestId.echo must be true or false');
  return {
    key: options.key,
    header: headerName(options.header, 'x-request-id', 'requestId.header'),
    generate: optionalFunction<() => string>(options.generate, 'requestId.generate') ?? randomUUID,
    echo,
  };
}

/** By default each error code warns once per process: strangers must not fill the logs. */
const warned = new Set<string>();

function warnOnce(error: DContextError): void {
  if (warned.has(error.code)) return;
  warned.add(error.code);
  process.emitWarning(
    `${error.message} (dcontext/http: further ${error.code} errors are not shown; pass onError to see each)`,
    { type: 'DContextWarning', code: `DCONTEXT_HTTP_${error.code}` },
  );
}

/** Checks `options` (`INVALID_ARGUMENT` on a value that means nothing) and resolves defaults. */
export function resolveIngress(options: unknown, door: string): Ingress {
  const object = optionsObject<IngressOptions>(options, door);
  const name = object.name ?? 'http';
  if (typeof name !== 'string' && typeof name !== 'function') {
    throw invalid(`${door} option name must be a string or a function of the request`);
  }
  const onInvalid = object.onInvalid ?? 'ignore';
  if (onInvalid !== 'ignore' && onInvalid !== 'reject') {
    throw invalid(
      `${door} option onInvalid must be 'ignore' or 'reject' (got ${describe(onInvalid)})`,
    );
  }
  const verifyKeys = object.verifyKeys;
  if (verifyKeys !== undefined && (!Array.isArray(verifyKeys) || verifyKeys.length === 0)) {
    throw invalid(
      `${door} option verifyKeys must be a non-empty list of keys (the current one first)`,
    );
  }
  const accept = keyListOption(object.accept, 'none', `${door} option accept`);
  return {
    name,
    header: headerName(object.header, 'x-dcontext', `${door} option header`),
    accept,
    verifyKeys,
    headers: headerMap(object.headers, `${door} option headers`),
    requestId: requestIdOption(object.requestId),
    reject: onInvalid === 'reject',
    onError:
      optionalFunction<Ingress['onError']>(object.onError, `${door} option onError`) ?? warnOnce,
    decode: decodeOptions(accept, verifyKeys),
  };
}

/**
 * Where `deserialize` reports the entries the ingress's `accept` drops, while one request's header
 * is decoded (decoding is synchronous; see {@link collectDropped}).
 */
let dropped: DContextError[] | undefined;

/**
 * Decodes a context header with the ingress's options and returns the snapshot and the entries
 * `accept` dropped (`undefined` when none). The options object is made once per ingress and
 * frozen, so `deserialize` resolves it once (see wire/options.ts).
 */
export function decodeHeader(
  ingress: Ingress,
  header: string,
): { snapshot: Snapshot; dropped: DContextError[] | undefined } {
  const outer = dropped; // a decode within a decode (a key's validate serving a request?) keeps its own
  dropped = undefined;
  try {
    const snapshot = deserialize(header, ingress.decode);
    return { snapshot, dropped };
  } finally {
    dropped = outer;
  }
}

function collectDropped(error: DContextError): void {
  (dropped ??= []).push(error);
}

/** `deserialize`'s options for the context headers of an ingress, frozen (see decodeHeader). */
function decodeOptions(
  accept: Ingress['accept'],
  verifyKeys: Ingress['verifyKeys'],
): DeserializeOptions {
  return Object.freeze({
    accept: typeof accept === 'string' ? accept : Object.freeze([...accept]),
    onDecodeError: 'throw' as const,
    onDroppedEntry: collectDropped,
    ...(verifyKeys === undefined ? {} : { verifyKeys: Object.freeze([...verifyKeys]) }),
  });
}
