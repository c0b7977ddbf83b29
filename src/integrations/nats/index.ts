/**
 * `dcontext/nats`: context through NATS and JetStream. Producers send the current context in a
 * header (`contextHeaders`, `publishWithContext`, `requestWithContext`); `handleWithContext`
 * runs each delivery in a fresh `nats:<subject>` scope with middleware and post-settle hooks, and
 * `consumeWithContext` drives a JetStream pull consumer with it. Loads `@nats-io/nats-core` only
 * when a function that makes headers is first called.
 */

export {
  type ConsumerLike,
  type ConsumeWithContextOptions,
  type ContextConsumer,
  consumeWithContext,
} from './consume.js';
export { handleWithContext } from './handle.js';
export { contextHeaders, messageContext } from './headers.js';
export { publishWithContext, requestWithContext } from './publish.js';
export type {
  HandleOptions,
  KeyList,
  Middleware,
  MsgLike,
  NatsRequestOptions,
  NatsSendOptions,
  PublisherLike,
  RequesterLike,
  SettleOutcome,
} from './types.js';
