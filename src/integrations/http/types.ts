import type { IncomingMessage } from 'node:http';
import type { DContextError, KeyRef, SigningKey } from '../../index.js';

/** A list of key names or `ContextKey`s. */
export type KeyList = readonly (string | { readonly name: string })[];

/** Where the request id comes from and goes to, at an ingress. */
export interface IngressRequestIdOptions {
  /** The key the request id is set on (a string key). */
  readonly key: KeyRef;
  /** The header it is read from and echoed on. Default `'x-request-id'`. */
  readonly header?: string;
  /**
   * Makes an id when the request carries none (or an invalid one). Default `crypto.randomUUID`.
   * Called before the request's scope is entered: it sees the context around the server.
   */
  readonly generate?: () => string;
  /** Sets the id on the response, under `header`. Default `true`. */
  readonly echo?: boolean;
}

/** What an ingress reports along with each error. */
export interface IngressReport {
  /**
   * How many entries of this request's context header were dropped because `accept` does not
   * name their key (each reported on its own `NOT_ACCEPTED` call); 0 for other errors.
   */
  readonly notAccepted: number;
}

/**
 * Options of `httpContext`, `expressContext` and `fastifyContext` (the same for all three).
 * Every request runs in a fresh scope named `name`; its inbound context comes from the `header`
 * (bounded by `accept`), the plain `headers` and the request id, all or nothing.
 */
export interface IngressOptions {
  /** The request scope's name, or a function of the request that gives it. Default `'http'`. */
  readonly name?: string | ((req: IncomingMessage) => string);
  /** The header carrying the serialized context. Default `'x-dcontext'`. */
  readonly header?: string;
  /**
   * Which keys the context header may set: `'none'` (default: an edge facing the internet must
   * not take a tenant from a stranger), `'all'` (between services that trust each other) or a
   * list of key names or `ContextKey`s. Other entries are dropped and reported to `onError` as
   * `NOT_ACCEPTED`. With `'none'` the caller's scope chain is not taken either.
   */
  readonly accept?: 'none' | 'all' | KeyList;
  /** Plain headers set on keys, header name to key: `{ 'x-tenant': tenantKey }`. */
  readonly headers?: Readonly<Record<string, KeyRef>>;
  /** Reads (or makes) the request id, sets it on a key and echoes it on the response. */
  readonly requestId?: IngressRequestIdOptions;
  /**
   * What bad inbound context does (a malformed, oversize, duplicated or forged context header, a
   * mapped header its key's `validate` refuses, a request id that is not 1-128 visible ASCII
   * characters): `'ignore'` (default) runs the request with no inbound entries (and a fresh
   * request id) and reports the error; `'reject'` answers `400` with
   * `{ "error": code, "message": … }` and the handler never runs.
   */
  readonly onInvalid?: 'ignore' | 'reject';
  /**
   * Receives each `DContextError` of a request: the reason its inbound context was refused, and
   * one `NOT_ACCEPTED` per dropped entry (past 16, one more for the rest, with their count). `req` is Node's `IncomingMessage` (Fastify's
   * `request.raw`). Default: one `DContextWarning` per error code and process, then silence (an
   * edge must not let strangers fill its logs): pass `onError` to log them.
   */
  readonly onError?: (error: DContextError, req: IncomingMessage, report: IngressReport) => void;
  /** HMAC keys the context header must be signed with (`deserialize`'s `verifyKeys`). */
  readonly verifyKeys?: readonly SigningKey[];
}

/** Where the request id goes on outgoing calls. */
export interface EgressRequestIdOptions {
  /** The key holding the request id. */
  readonly key: KeyRef;
  /** The header it is sent in. Default `'x-request-id'`. */
  readonly header?: string;
}

/** Options of `injectHeaders`, `createContextFetch` and `contextInterceptor`. */
export interface EgressOptions {
  /** The header carrying the serialized context. Default `'x-dcontext'`. */
  readonly header?: string;
  /**
   * Which keys the context header carries: `'all'` (default), `'none'` or a list of key names
   * or `ContextKey`s; entries forwarded from upstream are bounded the same way. Local-only keys
   * never leave.
   */
  readonly send?: 'all' | 'none' | KeyList;
  /**
   * Which destinations get context headers at all. Default: every host. Set it whenever a
   * process also calls third parties: `to: (url) => url.hostname.endsWith('.internal')`.
   */
  readonly to?: (url: URL) => boolean;
  /** Plain headers sent from keys, header name to key: `{ 'x-tenant': tenantKey }`. */
  readonly headers?: Readonly<Record<string, KeyRef>>;
  /** Sends the request id in its own header. */
  readonly requestId?: EgressRequestIdOptions;
  /** Signs the context header (`serialize`'s `signingKey`). */
  readonly signingKey?: SigningKey;
}
