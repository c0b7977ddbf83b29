import * as diagnostics from 'node:diagnostics_channel';
import { applyInSnapshot, captureActive } from '../../store/variable-scope.js';

/**
 * The `TracingChannel` {@link traceUndiciRequests} publishes each request on. undici 7 itself
 * publishes only plain channels (`undici:request:create`, `…:headers`, …) with `publish()`,
 * never `runStores`, so a store bound to them never runs: this interceptor is the tracing
 * channel undici does not have.
 */
export const UNDICI_REQUEST_CHANNEL = 'dcontext:undici:request';

/** What {@link traceUndiciRequests} publishes for each request. */
export interface UndiciRequestMessage {
  /** The request's full URL (origin + path). */
  readonly url: string;
  readonly method: string;
  readonly origin: string;
  readonly path: string;
}

/** The part of undici's dispatch options the interceptor reads (structural: undici is not loaded). */
export interface UndiciDispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
}

/** An undici 7 dispatch function. */
export type UndiciDispatch<O extends UndiciDispatchOptions, H> = (
  options: O,
  handler: H,
) => boolean;

/** An undici 7 interceptor, for `dispatcher.compose(…)`. */
export type UndiciTracingInterceptor = <O extends UndiciDispatchOptions, H extends object>(
  dispatch: UndiciDispatch<O, H>,
) => UndiciDispatch<O, H>;

/**
 * An undici 7 interceptor that traces every request on the `TracingChannel`
 * {@link UNDICI_REQUEST_CHANNEL}, and runs the request's handler callbacks (`onRequestStart`,
 * `onResponseStart`, `onResponseData`, `onResponseEnd`, `onResponseError` and the legacy ones) in
 * the context the dispatch ran in: with {@link bindChannel} bound to that channel, each request's
 * own scope. Costs nothing while the channel has no subscriber and no bound store.
 *
 * @example
 * const agent = new Agent().compose(traceUndiciRequests());
 * bindChannel(UNDICI_REQUEST_CHANNEL, (m: UndiciRequestMessage) => ({ url: m.url }), { name: 'undici:request' });
 */
export function traceUndiciRequests(): UndiciTracingInterceptor {
  const channel = diagnostics.tracingChannel<unknown, UndiciRequestMessage>(UNDICI_REQUEST_CHANNEL);
  return (dispatch) => (options, handler) => {
    if (!channel.hasSubscribers) return dispatch(options, handler);
    const origin = String(options.origin ?? '');
    const message: UndiciRequestMessage = {
      url: requestUrl(origin, options.path),
      method: options.method ?? 'GET',
      origin,
      path: options.path,
    };
    return channel.traceSync(() => dispatch(options, inCurrentContext(handler)), message);
  };
}

function requestUrl(origin: string, path: string): string {
  try {
    return new URL(path, origin).href;
  } catch {
    return origin + path;
  }
}

/** `handler`, with every method called in the context current now. */
function inCurrentContext<H extends object>(handler: H): H {
  const captured = captureActive();
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(handler, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      let method = wrapped.get(property);
      if (method === undefined) {
        method = (...args: unknown[]): unknown =>
          applyInSnapshot(captured, value as (...args: unknown[]) => unknown, target, args);
        wrapped.set(property, method);
      }
      return method;
    },
  });
}
