/**
 * `dcontext/diagnostics-channel`: context for operations that libraries publish on
 * `node:diagnostics_channel`.
 *
 * - {@link bindChannel}: each operation published on a `TracingChannel` runs in its own child
 *   scope holding the values a transform derives from the message.
 * - {@link traceUndiciRequests}: an undici interceptor that publishes each request on a
 *   `TracingChannel` ({@link UNDICI_REQUEST_CHANNEL}), since undici 7 has none of its own.
 *
 * undici is not imported: the interceptor is structural. See docs/diagnostics-channel.md.
 */
export { type BindChannelOptions, bindChannel, type ChannelScope } from './bind-channel.js';
export {
  traceUndiciRequests,
  UNDICI_REQUEST_CHANNEL,
  type UndiciDispatch,
  type UndiciDispatchOptions,
  type UndiciRequestMessage,
  type UndiciTracingInterceptor,
} from './undici.js';
