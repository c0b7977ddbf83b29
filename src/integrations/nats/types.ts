import type { MsgHdrs, Payload } from '@nats-io/nats-core';
import type { SigningKey } from '../../index.js';

/** The header the context travels in, unless `header` says otherwise. */
export const CONTEXT_HEADER = 'x-dcontext';
/** Set on a request whose requester wants the responder's context back (`reply: true`). */
export const REPLY_HEADER = 'x-dcontext-reply';

/** What dcontext reads of a NATS message: a core `Msg` or a JetStream `JsMsg`. */
export interface MsgLike {
  readonly subject: string;
  readonly headers?: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/** A list of key names or `ContextKey`s. */
export type KeyList = readonly (string | { readonly name: string })[];

/** Options of {@link contextHeaders}, `publishWithContext` and `requestWithContext`. */
export interface NatsSendOptions {
  /**
   * Which keys go with the message: `'all'` (default) or a list of key names or `ContextKey`s.
   * Local-only keys never leave.
   */
  readonly send?: 'all' | KeyList;
  /** Signs the context (`serialize`'s `signingKey`); handlers check it with `verifyKeys`. */
  readonly signingKey?: SigningKey;
  /** The header carrying the serialized context. Default `'x-dcontext'`. */
  readonly header?: string;
}

/** Options of `requestWithContext`. */
export interface NatsRequestOptions extends NatsSendOptions {
  /**
   * Asks the responder (a handler wrapped in `handleWithContext`) to send its context back in the
   * reply's headers; read it with `messageContext(reply)`. Default `false`.
   */
  readonly reply?: boolean;
}

/** How a JetStream message was settled. */
export type SettleOutcome = 'ack' | 'nak' | 'term';

/** A step run before the handler, in the delivery's scope: it may set keys, then calls `next`. */
export type Middleware<M> = (msg: M, next: () => Promise<void>) => unknown;

/** Options of `handleWithContext` (and of `consumeWithContext`). */
export interface HandleOptions<M extends MsgLike = MsgLike> {
  /**
   * Which keys the message's context may set: `'all'` (default: subjects are written by your
   * own services, and whoever can publish on them can forge the payload anyway), `'none'`, or a
   * list of key names or `ContextKey`s. Other entries are dropped and reported to `onError` as
   * `NOT_ACCEPTED`. With `'none'` the sender's scope chain is not taken either.
   */
  readonly accept?: 'all' | 'none' | KeyList;
  /** HMAC keys the context must be signed with (`deserialize`'s `verifyKeys`). */
  readonly verifyKeys?: readonly SigningKey[];
  /** The header carrying the serialized context. Default `'x-dcontext'`. */
  readonly header?: string;
  /**
   * Which keys a `msg.respond()` sends back when the request asked for the responder's context
   * (`requestWithContext(…, { reply: true })`): `'all'` (default), `'none'` (replies never carry
   * context, whatever the requester asks), or a list of key names or `ContextKey`s. Any requester
   * can ask: bound it where requesters should not see every key this service holds. Local-only
   * keys never leave.
   */
  readonly reply?: 'all' | 'none' | KeyList;
  /**
   * Middleware run in order, in the delivery's scope, before the handler: each may enrich the
   * context (a tenant from the subject) and calls `next()` to go on.
   */
  readonly use?: readonly Middleware<M>[];
  /**
   * What a message whose context cannot be read does (garbage, oversize, a bad signature, a key
   * version without migration): `'drop'` (default) runs the handler with no inbound entries and
   * reports the error; `'reject'` does not run it: a JetStream message is terminated (`term`, it
   * would fail the same way on every redelivery; the post-settle hooks run), a core message is
   * dropped (a requester gets no reply).
   */
  readonly onInvalid?: 'drop' | 'reject';
  /**
   * JetStream messages only: `'auto'` (default) acks a message the handler did not settle when
   * it returns, and naks it when it throws; `'manual'` leaves settling to the handler (an
   * unsettled message is redelivered after the consumer's `ack_wait`).
   */
  readonly settle?: 'auto' | 'manual';
  /** After a successful `ack` (or an `ackAck` the server confirmed), in the delivery's context. */
  readonly afterAck?: (msg: M) => unknown;
  /** After a successful `nak`, in the delivery's context. */
  readonly afterNak?: (msg: M) => unknown;
  /** After a successful `term`, in the delivery's context. */
  readonly afterTerm?: (msg: M) => unknown;
  /** After any successful settle (after the specific hook), in the delivery's context. */
  readonly afterSettle?: (outcome: SettleOutcome, msg: M) => unknown;
  /**
   * Receives each error of a delivery that has nowhere else to go: the `DContextError` why its
   * context was refused and one `NOT_ACCEPTED` per dropped entry (past 16, one more for the rest, with their count), and whatever the handler, a
   * middleware, a settle call dcontext made or a post-settle hook threw. Default: one
   * `DContextWarning` per `DContextError` code and process, and `console.error` for the others.
   */
  readonly onError?: (error: unknown, msg: M) => void;
}

/** What `publishWithContext` needs of a client: a core `NatsConnection` or a `JetStreamClient`. */
export interface PublisherLike {
  publish(subject: string, payload?: Payload, options?: { headers?: MsgHdrs }): unknown;
}

/** What `requestWithContext` needs of a `NatsConnection`. */
export interface RequesterLike {
  request(
    subject: string,
    payload?: Payload,
    options?: { timeout: number; headers?: MsgHdrs },
  ): Promise<unknown>;
}
