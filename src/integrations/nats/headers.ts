/** The context in NATS headers, both ways. */
import { createRequire } from 'node:module';
import type { MsgHdrs } from '@nats-io/nats-core';
import { DContextError, type DeserializeOptions, deserialize, Snapshot } from '../../index.js';
import { currentContext } from '../delivery/send.js';
import { describe, invalid, optionsObject } from '../http/check.js';
import { CONTEXT_HEADER, type MsgLike, type NatsSendOptions } from './types.js';

/** What NATS allows in a header name: printable ASCII but ':' (nats.js checks the same). */
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** A header name option, checked (`INVALID_ARGUMENT`). */
export function headerOption(value: unknown, what: string): string {
  if (value === undefined) return CONTEXT_HEADER;
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw invalid(
      `${what} must be a header name such as '${CONTEXT_HEADER}' (got ${describe(value)})`,
    );
  }
  return value;
}

let makeHeaders: (() => MsgHdrs) | undefined;

/**
 * A new, empty `MsgHdrs`. `@nats-io/nats-core` is loaded on the first call, not on import, so
 * `dcontext/nats` loads nothing of NATS until it is used (the peer stays optional).
 */
export function newHeaders(): MsgHdrs {
  if (makeHeaders === undefined) {
    // The CommonJS build gets import.meta.url from tsup's shim (tsup.config.ts).
    const load = createRequire(import.meta.url);
    makeHeaders = (load('@nats-io/nats-core') as { headers: () => MsgHdrs }).headers;
  }
  return makeHeaders();
}

/**
 * A new `MsgHdrs` holding every value of `given` (checked to be `MsgHdrs`, `INVALID_ARGUMENT`
 * naming `what`): a caller's headers are never changed, so one `MsgHdrs` can be reused for many
 * messages without the first message's context header going out with all the later ones.
 */
export function copyHeaders(given: unknown, what: string): MsgHdrs {
  if (
    typeof given !== 'object' ||
    given === null ||
    typeof (given as MsgHdrs).keys !== 'function' ||
    typeof (given as MsgHdrs).values !== 'function'
  ) {
    throw invalid(`${what} must be NATS MsgHdrs (from headers()) (got ${describe(given)})`);
  }
  const copy = newHeaders();
  for (const name of (given as MsgHdrs).keys()) {
    for (const value of (given as MsgHdrs).values(name)) copy.append(name, value);
  }
  return copy;
}

/** Sets `name: value` unless the headers have it already. */
export function addHeader(headers: MsgHdrs, name: string, value: string): MsgHdrs {
  if (!headers.has(name)) headers.set(name, value);
  return headers;
}

/**
 * NATS headers carrying the current context: `headers` (a new `MsgHdrs` when omitted) with the
 * context header added (`x-dcontext` unless `header` says otherwise; one already there is left
 * as it is). Throws `CONTEXT_TOO_LARGE` (over `setMaxContextSize`) or `ENCODE_FAILED`.
 * `headers` is changed: do not pass one `MsgHdrs` that you reuse for many messages (the first
 * context would stay in it and go out with every later message); `publishWithContext` copies.
 *
 * @example
 * nc.publish('orders.created', payload, { headers: contextHeaders() });
 */
export function contextHeaders(headers?: MsgHdrs, options?: NatsSendOptions): MsgHdrs {
  if (
    headers !== undefined &&
    (typeof headers !== 'object' || headers === null || typeof headers.set !== 'function')
  ) {
    throw invalid(
      `contextHeaders takes NATS MsgHdrs (from headers()) or nothing (got ${describe(headers)})`,
    );
  }
  const name = headerOption(options?.header, 'contextHeaders option header');
  const context = currentContext(options, 'contextHeaders');
  return addHeader(headers ?? newHeaders(), name, context);
}

/**
 * The context header of `msg`: undefined when absent; `DECODE_FAILED` when it was sent more
 * than once (two senders, or a forwarded message with a header added).
 */
export function contextHeaderOf(msg: MsgLike, header: string): string | undefined {
  const values = msg.headers?.values(header);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) {
    throw new DContextError(
      'DECODE_FAILED',
      `the '${header}' header was sent more than once; send it once`,
    );
  }
  return values[0];
}

/**
 * The context a message carries, as a `Snapshot` (empty when it carries none): for a reply to
 * `requestWithContext(…, { reply: true })`, or any message read outside `handleWithContext`.
 * Throws what `deserialize` throws on a bad context; `INVALID_ARGUMENT` for a `msg` or options that
 * mean nothing.
 *
 * @example
 * const reply = await requestWithContext(nc, 'inventory.check', data, { timeout: 1000 }, { reply: true });
 * console.log(messageContext(reply).scopeChain); // the responder's chain
 */
export function messageContext(
  msg: MsgLike,
  options?: DeserializeOptions & { readonly header?: string },
): Snapshot {
  if (typeof msg !== 'object' || msg === null) {
    throw invalid(`messageContext takes a NATS message (got ${describe(msg)})`);
  }
  const object = optionsObject<DeserializeOptions & { header: string }>(options, 'messageContext');
  const header = headerOption(object.header, 'messageContext option header');
  const value = contextHeaderOf(msg, header);
  const { header: _, ...decode } = object;
  return value === undefined ? Snapshot.empty() : deserialize(value, decode);
}
