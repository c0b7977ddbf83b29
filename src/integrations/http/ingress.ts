/**
 * One request through an ingress: read the inbound context (context header, plain headers,
 * request id), all or nothing, then run the rest of the request in a fresh named scope.
 * Decoding never throws out of here: a failure goes to `onError` and, with `onInvalid:
 * 'reject'`, to a 400 answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bindEmitter,
  DContextError,
  deserialize,
  isDContextError,
  type KeyRef,
  type Snapshot,
  scope,
  set,
  withContext,
} from '../../index.js';
import { decodeOptions, type Ingress } from './ingress-options.js';

/** A request id must be 1-128 visible ASCII characters: safe to log and to echo in a header. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** What a request brings in, checked, before anything is set. */
interface Inbound {
  readonly snapshot: Snapshot | undefined;
  readonly plain: readonly (readonly [KeyRef, string])[];
  readonly requestId: string | undefined;
  readonly notAccepted: readonly DContextError[];
}

const NOTHING: Inbound = { snapshot: undefined, plain: [], requestId: undefined, notAccepted: [] };

function invalidInput(message: string, key?: string, cause?: unknown): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    message,
    key,
    cause === undefined ? undefined : { cause },
  );
}

/** A header sent once as a string; Node joins repeats of most headers with ', '. */
function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value: unknown = req.headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw invalidInput(`the '${name}' header was sent more than once; send it once`);
  }
  return value;
}

function readInbound(ingress: Ingress, req: IncomingMessage): Inbound {
  let snapshot: Snapshot | undefined;
  const notAccepted: DContextError[] = [];
  const header = singleHeader(req, ingress.header);
  if (header !== undefined && header !== '') {
    // A context header holds base64 only: a comma means Node joined two of them.
    if (header.includes(',')) {
      throw invalidInput(`the '${ingress.header}' header was sent more than once; send it once`);
    }
    snapshot = deserialize(
      header,
      decodeOptions(ingress, (error) => notAccepted.push(error)),
    );
  }
  const plain: (readonly [KeyRef, string])[] = [];
  for (const [name, key] of ingress.headers) {
    const value = singleHeader(req, name);
    if (value !== undefined) plain.push([key, value]);
  }
  let requestId: string | undefined;
  const rid = ingress.requestId;
  if (rid !== undefined) {
    const value = singleHeader(req, rid.header);
    if (value !== undefined) requestId = checkedRequestId(value, `the '${rid.header}' header`);
    else if (snapshot?.has(rid.key) === true) {
      requestId = checkedRequestId(snapshot.get(rid.key), 'the request id in the context header');
    }
  }
  return {
    snapshot: ingress.accept === 'none' ? undefined : snapshot,
    plain,
    requestId,
    notAccepted,
  };
}

function checkedRequestId(value: unknown, where: string): string {
  if (typeof value === 'string' && REQUEST_ID.test(value)) return value;
  throw invalidInput(
    `${where} is not a usable request id: send 1 to 128 visible ASCII characters (got ${typeof value === 'string' ? `${value.length} characters` : typeof value})`,
  );
}

function asError(error: unknown): DContextError {
  return isDContextError(error)
    ? error
    : invalidInput(
        `cannot read the request's context: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        error,
      );
}

function report(ingress: Ingress, error: DContextError, req: IncomingMessage, count = 0): void {
  try {
    ingress.onError(error, req, { notAccepted: count });
  } catch (thrown) {
    // The middleware never throws out: not even an onError that does.
    process.emitWarning(`dcontext/http onError threw: ${String(thrown)}`, {
      type: 'DContextWarning',
      code: 'DCONTEXT_HTTP_ON_ERROR',
    });
  }
}

function scopeName(ingress: Ingress, req: IncomingMessage): string {
  const name = ingress.name;
  if (typeof name === 'string') return name;
  try {
    const given = name(req);
    if (typeof given === 'string') return given;
    throw new TypeError(`name(req) returned ${typeof given}, not a string`);
  } catch (error) {
    report(ingress, asError(error), req);
    return 'http';
  }
}

/** Marks a request whose inbound values a key refused: it starts again with none. */
const REFUSED: unique symbol = Symbol('refused');

/**
 * Runs `next` for `req` in a fresh scope named by the ingress, with the request's inbound
 * context, and returns what it returns; or calls `reject(error)` (and returns undefined) when the
 * inbound context is bad and the ingress rejects bad input.
 */
export function runRequest<R>(
  ingress: Ingress,
  req: IncomingMessage,
  res: ServerResponse,
  next: () => R,
  reject: (error: DContextError) => void,
): R | undefined {
  const name = scopeName(ingress, req);
  let inbound: Inbound;
  try {
    inbound = readInbound(ingress, req);
  } catch (error) {
    const refused = asError(error);
    report(ingress, refused, req);
    if (ingress.reject) {
      reject(refused);
      return undefined;
    }
    inbound = NOTHING;
  }
  const count = inbound.notAccepted.length;
  for (const error of inbound.notAccepted) report(ingress, error, req, count);

  let refusedBy: unknown;
  const body = (values: Inbound) => (): R | typeof REFUSED => {
    try {
      for (const [key, value] of values.plain) set(key, value);
      const rid = ingress.requestId;
      if (rid !== undefined) {
        const id = values.requestId ?? rid.generate();
        set(rid.key, id);
        if (rid.echo && !res.headersSent) res.setHeader(rid.header, id);
      }
    } catch (error) {
      refusedBy = error;
      return REFUSED;
    }
    // Listeners the handler or a body parser adds to the request (req.on('data'/'end')) run in
    // this request's scope, not in that of whoever emits on the socket. Not the response: its
    // 'finish' and 'close' are emitted from writes made in the scope already, and binding it
    // cost ~25% of a hello-world server's throughput (Node 24, measured here).
    bindEmitter(req);
    return next();
  };
  const enter = (values: Inbound): R | typeof REFUSED =>
    values.snapshot === undefined
      ? scope(name, body(values))
      : withContext(values.snapshot, () => scope(name, body(values)));

  const result = enter(inbound);
  if (result !== REFUSED) return result;
  // A key's validate refused an inbound value: nothing of the request's inbound context is kept.
  report(ingress, asError(refusedBy), req);
  if (ingress.reject) {
    reject(asError(refusedBy));
    return undefined;
  }
  const carried =
    inbound.snapshot !== undefined || inbound.plain.length > 0 || inbound.requestId !== undefined;
  if (carried) {
    const second = enter(NOTHING);
    if (second !== REFUSED) return second;
    report(ingress, asError(refusedBy), req);
  }
  // Even a generated id was refused (a generate() its key's validate rejects): run without one.
  return scope(name, () => {
    bindEmitter(req);
    return next();
  });
}

/** The 400 answer of `onInvalid: 'reject'` on a plain Node response. */
export function rejectResponse(res: ServerResponse, error: DContextError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ error: error.code, message: error.message });
  res.statusCode = 400;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
