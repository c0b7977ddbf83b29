/** Publishing and requesting with the current context in the message headers. */
import type { MsgHdrs, Payload } from '@nats-io/nats-core';
import { describe, invalid } from '../http/check.js';
import { contextHeaders, copyHeaders, headerOption } from './headers.js';
import {
  type NatsRequestOptions,
  type NatsSendOptions,
  type PublisherLike,
  REPLY_HEADER,
  type RequesterLike,
} from './types.js';

function withHeaders<O>(opts: O | undefined, headers: MsgHdrs): O & { headers: MsgHdrs } {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw invalid(`publish and request options must be an object (got ${describe(opts)})`);
  }
  return { ...(opts as O), headers };
}

/**
 * A copy of `given` with the context added. Never `given` itself: callers reuse one `MsgHdrs`
 * for many messages, and a context header left in it would go out with every later message
 * (`contextHeaders` keeps a context header already there), each request's under the first's.
 */
function headersFor(opts: unknown, options: NatsSendOptions | undefined): MsgHdrs {
  const given = (opts as { headers?: MsgHdrs } | undefined)?.headers;
  if (given === undefined) return contextHeaders(undefined, options);
  const copy = copyHeaders(given, 'publish and request option headers');
  return contextHeaders(copy, options);
}

/**
 * `client.publish(subject, data, opts)` with the current context in the headers (a copy of
 * `opts.headers` with it, when given: the caller's `MsgHdrs` is left as it is, so it can be
 * reused). `client` is a core `NatsConnection` (returns nothing) or a
 * `JetStreamClient` (returns its `Promise<PubAck>`). Throws `CONTEXT_TOO_LARGE` (over
 * `setMaxContextSize`) or `ENCODE_FAILED` before anything is published.
 *
 * @example
 * publishWithContext(nc, 'orders.created', JSON.stringify(order));
 * await publishWithContext(js, 'orders.created', JSON.stringify(order), { msgID: order.id });
 */
export function publishWithContext<C extends PublisherLike>(
  client: C,
  subject: string,
  data?: Payload,
  opts?: Parameters<C['publish']>[2],
  options?: NatsSendOptions,
): ReturnType<C['publish']> {
  if (typeof client?.publish !== 'function') {
    throw invalid(
      `publishWithContext takes a NatsConnection or a JetStreamClient (got ${describe(client)})`,
    );
  }
  const headers = headersFor(opts, options);
  return client.publish(subject, data, withHeaders(opts, headers)) as ReturnType<C['publish']>;
}

/**
 * `nc.request(subject, data, opts)` with the current context in the headers. With
 * `reply: true`, a responder wrapped in `handleWithContext` sends its own context back in the
 * reply: read it with `messageContext(reply)`. Rejects with `CONTEXT_TOO_LARGE` or
 * `ENCODE_FAILED` before anything is sent.
 *
 * @example
 * const reply = await requestWithContext(nc, 'inventory.check', sku, { timeout: 1000 });
 */
export async function requestWithContext<C extends RequesterLike>(
  nc: C,
  subject: string,
  data?: Payload,
  opts?: Parameters<C['request']>[2],
  options?: NatsRequestOptions,
): Promise<Awaited<ReturnType<C['request']>>> {
  if (typeof nc?.request !== 'function') {
    throw invalid(`requestWithContext takes a NatsConnection (got ${describe(nc)})`);
  }
  const reply = options?.reply ?? false;
  if (typeof reply !== 'boolean')
    throw invalid('requestWithContext option reply must be true or false');
  const headers = headersFor(opts, options);
  if (reply)
    headers.set(REPLY_HEADER, headerOption(options?.header, 'requestWithContext option header'));
  // nats.js's own default when no options are given.
  const sent = withHeaders(opts ?? { timeout: 1000 }, headers);
  return (await nc.request(subject, data, sent)) as Awaited<ReturnType<C['request']>>;
}
