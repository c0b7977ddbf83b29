import { resolveEgress } from './egress-options.js';
import { outgoingHeaders } from './outgoing.js';
import type { EgressOptions } from './types.js';

/** The headers of an undici dispatch: an object, a flat `[name, value, …]` list, or pairs. */
type DispatchHeaders =
  | Record<string, string | string[] | undefined>
  | string[]
  | Iterable<[string, string | string[] | undefined]>
  | null
  | undefined;

/** The part of undici's `Dispatcher.DispatchOptions` this interceptor reads. */
export interface DispatchOptionsLike {
  origin?: string | URL;
  path: string;
  headers?: DispatchHeaders;
}

/** An undici 7 dispatch function (structural: dcontext does not load undici). */
export type DispatchLike<O extends DispatchOptionsLike, H> = (options: O, handler: H) => boolean;

/** An undici 7 interceptor, for `dispatcher.compose(…)`. */
export type ContextInterceptor = <O extends DispatchOptionsLike, H>(
  dispatch: DispatchLike<O, H>,
) => DispatchLike<O, H>;

function hasHeader(headers: DispatchHeaders, lowerName: string): boolean {
  if (headers === null || headers === undefined) return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === lowerName) return true;
    }
    return false;
  }
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === lowerName) return true;
  }
  return false;
}

/**
 * `headers` with `pairs` added (those it does not have yet), in the same form; an iterable
 * becomes a flat array.
 */
function withPairs(headers: DispatchHeaders, pairs: [string, string][]): DispatchHeaders {
  if (headers !== null && headers !== undefined && !Array.isArray(headers)) {
    if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
      // Flat `[name, value, …]`, which undici also takes: an object would keep one of a name
      // given twice.
      const flat: (string | string[] | undefined)[] = [];
      for (const [name, value] of headers as Iterable<[string, string | string[] | undefined]>) {
        flat.push(name, value);
      }
      headers = flat as string[];
    }
  }
  const missing = pairs.filter(([name]) => !hasHeader(headers, name));
  if (missing.length === 0) return headers;
  if (Array.isArray(headers)) return [...headers, ...missing.flat()];
  return {
    ...(headers as Record<string, string | string[] | undefined>),
    ...Object.fromEntries(missing),
  };
}

/**
 * An undici 7 interceptor: every request made through the dispatcher it is composed into - its
 * `request`, `fetch` with `dispatcher`, or everything once it is the global dispatcher - carries
 * the current context's headers (see {@link EgressOptions}) to the destinations `to` allows.
 *
 * @example
 * import { Agent, setGlobalDispatcher } from 'undici';
 * setGlobalDispatcher(new Agent().compose(contextInterceptor({ to: (url) => url.hostname === 'api.internal' })));
 */
export function contextInterceptor(options?: EgressOptions): ContextInterceptor {
  const egress = resolveEgress(options, 'contextInterceptor');
  return (dispatch) => (opts, handler) => {
    if (egress.to !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(opts.path, opts.origin);
      } catch {
        url = undefined;
      }
      if (url === undefined || !egress.to(url)) return dispatch(opts, handler);
    }
    const pairs = outgoingHeaders(egress);
    if (pairs.length === 0) return dispatch(opts, handler);
    return dispatch({ ...opts, headers: withPairs(opts.headers, pairs) }, handler);
  };
}
