/**
 * One request through an ingress: read the inbound context (context header, plain headers,
 * request id), all or nothing, then run the rest of the request in a fresh named scope.
 * Decoding never throws out of here: a failure goes to `onError` and, with `onInvalid:
 * 'reject'`, to a 400 answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
// Internal: the request's scope is built, values and all, before one AsyncLocalStorage.run.
import { preparedScope, runInFrame } from '../../async/async-context.js';
import { DContextError, isDContextError, type Snapshot } from '../../index.js';
import { frameListener } from '../../internal/both-stores.js';
import { currentRegistry, requireDefinition } from '../../registry/registry.js';
import { writeSlot } from '../../store/frame.js';
import type { Frame } from '../../store/frame-shape.js';
import { droppedEntries } from '../../wire/decode.js';
import { bindRequest } from './bind-request.js';
import { decodeHeader, type Ingress, type ResolvedRequestId } from './ingress-options.js';

/** What a request brings in, checked, before anything is set. */
interface Inbound {
  readonly snapshot: Snapshot | undefined;
  /** Plain header values, in the order of `ingress.headers` (undefined: header absent). */
  readonly plain: readonly (string | undefined)[] | undefined;
  readonly requestId: string | undefined;
  readonly notAccepted: readonly DContextError[] | undefined;
}

const NOTHING: Inbound = {
  snapshot: undefined,
  plain: undefined,
  requestId: undefined,
  notAccepted: undefined,
};

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

/**
 * A mapped plain header: sent once, as a string; an empty value is no value (absent). Node joins
 * the lines of a header sent twice with ', ' into a value no sender sent: a value holding ', '
 * (and only such a value: the check costs nothing otherwise) is looked up in the raw header lines
 * to tell two lines from one line holding a comma.
 */
function plainHeader(req: IncomingMessage, name: string): string | undefined {
  const value = singleHeader(req, name);
  if (value === undefined || value === '') return undefined;
  if (value.includes(', ') && sentTwice(req, name)) {
    throw invalidInput(`the '${name}' header was sent more than once; send it once`);
  }
  return value;
}

/** Whether `name` (lower case) is on more than one of the request's raw header lines. */
function sentTwice(req: IncomingMessage, name: string): boolean {
  const raw: unknown = req.rawHeaders;
  if (!Array.isArray(raw)) return false;
  let lines = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const line: unknown = raw[i];
    if (
      typeof line === 'string' &&
      line.length === name.length &&
      line.toLowerCase() === name &&
      ++lines > 1
    ) {
      return true;
    }
  }
  return false;
}

function readInbound(ingress: Ingress, req: IncomingMessage): Inbound {
  let snapshot: Snapshot | undefined;
  let notAccepted: DContextError[] | undefined;
  const header = singleHeader(req, ingress.header);
  if (header !== undefined && header !== '') {
    // A context header holds base64 only: a comma means Node joined two of them.
    if (header.includes(',')) {
      throw invalidInput(`the '${ingress.header}' header was sent more than once; send it once`);
    }
    const decoded = decodeHeader(ingress, header);
    snapshot = decoded.snapshot;
    notAccepted = decoded.dropped;
  }
  let plain: (string | undefined)[] | undefined;
  const headers = ingress.headers;
  for (let i = 0; i < headers.length; i++) {
    const value = plainHeader(req, headers[i]![0]);
    if (value !== undefined) (plain ??= new Array<string | undefined>(headers.length))[i] = value;
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
  if (ingress.accept === 'none') snapshot = undefined;
  if (snapshot === undefined && plain === undefined && requestId === undefined) {
    return notAccepted === undefined ? NOTHING : { ...NOTHING, notAccepted };
  }
  return { snapshot, plain, requestId, notAccepted };
}

/** A request id is 1-128 visible ASCII characters (a loop: ~3x faster than the regex it replaced). */
function isRequestId(value: string): boolean {
  const length = value.length;
  if (length === 0 || length > 128) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

function checkedRequestId(value: unknown, where: string): string {
  if (typeof value === 'string' && isRequestId(value)) return value;
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

/** How a door (node:http, Express, Fastify) goes on with a request, or answers it with a 400. */
export interface Door<A, B, R> {
  /** Runs the rest of the request (the listener, `next()`), inside its scope. */
  next(a: A, b: B): R;
  /** Answers `onInvalid: 'reject'`'s 400. */
  reject(a: A, b: B, error: DContextError): void;
  /** Sets a response header (the echoed request id) the way the framework wants it set. */
  setHeader(a: A, b: B, name: string, value: string): void;
}

/**
 * The request's scope, built before anything runs in it: `values`' snapshot (or the current
 * context) as a child named `name`, with the plain header values and the inbound request id
 * written in. Throws (`TYPE_MISMATCH` from a key's validate) with nothing set and no header
 * echoed; on success echoes the inbound request id.
 */
function buildScope<A, B, R>(
  ingress: Ingress,
  name: string,
  values: Inbound,
  res: ServerResponse,
  door: Door<A, B, R>,
  a: A,
  b: B,
): Frame {
  const frame = preparedScope(values.snapshot, name);
  const plain = values.plain;
  if (plain !== undefined) {
    const headers = ingress.headers;
    for (let i = 0; i < headers.length; i++) {
      const value = plain[i];
      if (value !== undefined) writeSlot(frame, requireDefinition(headers[i]![1]), value);
    }
  }
  const rid = ingress.requestId;
  const id = values.requestId;
  if (rid !== undefined && id !== undefined) {
    writeSlot(frame, requireDefinition(rid.key), id);
    if (rid.echo && !res.headersSent) door.setHeader(a, b, rid.header, id);
  }
  return frame;
}

/**
 * Sets (and echoes) an id made by `requestId.generate()` in `frame`, for a request that brought
 * none. A `generate()` that throws or returns no usable id, or an id its key's validate refuses,
 * is the server's bug, not the client's input: reported to `onError` once, never a 400, and the
 * request runs without an id, with the rest of its context.
 */
function generateId<A, B, R>(
  ingress: Ingress,
  rid: ResolvedRequestId,
  frame: Frame,
  req: IncomingMessage,
  res: ServerResponse,
  door: Door<A, B, R>,
  a: A,
  b: B,
): void {
  try {
    const id: unknown = rid.generate();
    if (typeof id !== 'string' || !isRequestId(id)) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        `requestId.generate() returned ${typeof id === 'string' ? `${id.length} characters that are not a request id` : typeof id}: return 1 to 128 visible ASCII characters; the request runs without an id`,
      );
    }
    writeSlot(frame, requireDefinition(rid.key), id);
    if (rid.echo && !res.headersSent) door.setHeader(a, b, rid.header, id);
  } catch (error) {
    report(
      ingress,
      isDContextError(error)
        ? error
        : new DContextError(
            'INVALID_ARGUMENT',
            `requestId.generate() threw (${error instanceof Error ? error.message : String(error)}); the request runs without an id`,
            undefined,
            { cause: error },
          ),
      req,
    );
  }
}

/** Reports bad inbound input; with `onInvalid: 'reject'` answers the 400 and returns true. */
function refuse<A, B, R>(
  ingress: Ingress,
  req: IncomingMessage,
  door: Door<A, B, R>,
  a: A,
  b: B,
  error: unknown,
): boolean {
  const refused = asError(error);
  report(ingress, refused, req);
  if (!ingress.reject) return false;
  door.reject(a, b, refused);
  return true;
}

/** What runs inside the request's scope (module level: a request allocates no closure). */
function enterRequest<A, B, R>(req: IncomingMessage, door: Door<A, B, R>, a: A, b: B): R {
  // Listeners the handler or a body parser adds to the request (req.on('data'/'end')) run in
  // this request's scope, not in that of whoever emits on the socket. Not the response: its
  // 'finish' and 'close' are emitted from writes made in the scope already, and binding it
  // cost ~25% of a hello-world server's throughput (Node 24, measured here). The exception, a
  // response queued behind another on a pipelined socket, is bound in runRequest.
  bindRequest(req);
  return door.next(a, b);
}

/**
 * Runs `door.next(a, b)` for `req` in a fresh scope named by the ingress, with the request's
 * inbound context, and returns what it returns; or calls `door.reject(a, b, error)` (and returns
 * undefined) when the inbound context is bad and the ingress rejects bad input. The door and its
 * arguments are passed apart so that a request allocates no closure for them.
 */
export function runRequest<A, B, R>(
  ingress: Ingress,
  req: IncomingMessage,
  res: ServerResponse,
  door: Door<A, B, R>,
  a: A,
  b: B,
): R | undefined {
  // Serving before initialize() is the server's bug, not bad input: it throws before any report.
  currentRegistry();
  const name = scopeName(ingress, req);
  let inbound: Inbound;
  try {
    inbound = readInbound(ingress, req);
  } catch (error) {
    if (refuse(ingress, req, door, a, b, error)) return undefined;
    inbound = NOTHING;
  }
  const notAccepted = inbound.notAccepted;
  if (notAccepted !== undefined) {
    // Past the first few, the decode reports dropped entries as one summary standing for many.
    let count = 0;
    for (const error of notAccepted) count += droppedEntries(error);
    for (const error of notAccepted) report(ingress, error, req, count);
  }

  let frame: Frame;
  let hasId = inbound.requestId !== undefined;
  try {
    frame = buildScope(ingress, name, inbound, res, door, a, b);
  } catch (error) {
    // A key's validate refused an inbound value: nothing of the request's inbound context is kept.
    if (refuse(ingress, req, door, a, b, error)) return undefined;
    frame = preparedScope(undefined, name);
    hasId = false;
  }
  const rid = ingress.requestId;
  if (rid !== undefined && !hasId) generateId(ingress, rid, frame, req, res, door, a, b);
  if (res.socket == null && typeof res.emit === 'function') bindQueuedResponse(res, frame);
  return runInFrame(frame, enterRequest, req, door, a, b);
}

/**
 * A response queued behind another on its socket (HTTP/1.1 pipelining: no socket yet) is flushed
 * from the previous response's `'finish'`, so its own events (`'finish'`, Fastify's
 * `onResponse`, loggers) would run in the previous request's context. Its `emit` is bound to the
 * request's frame instead (called as it is when that frame is current). Only such responses: a
 * response with its socket emits from writes made in its own scope.
 */
function bindQueuedResponse(res: ServerResponse, frame: Frame): void {
  const emit = res.emit as (this: unknown, ...args: unknown[]) => unknown;
  res.emit = frameListener(emit, frame) as ServerResponse['emit'];
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
