import { describe, invalid } from './check.js';
import { resolveEgress } from './egress-options.js';
import { addHeaders } from './inject.js';
import { outgoingHeaders } from './outgoing.js';
import type { EgressOptions } from './types.js';

/** The signature of the global `fetch`. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function urlOf(input: string | URL | Request): URL | undefined {
  try {
    return new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    );
  } catch {
    return undefined; // a relative URL: fetch will refuse it, and no context goes anywhere
  }
}

/**
 * A `fetch` that sends the current context's headers (see {@link EgressOptions}) to the
 * destinations `to` allows. `fetchImpl` defaults to the global `fetch`, looked up at each call.
 * Like `fetch`, it never throws: an error on the way out (`CONTEXT_TOO_LARGE`, …) rejects.
 *
 * @example
 * const internalFetch = createContextFetch({ to: (url) => url.hostname.endsWith('.internal') });
 * await internalFetch('http://billing.internal/charge', { method: 'POST' });
 */
export function createContextFetch(options?: EgressOptions, fetchImpl?: Fetch): Fetch {
  const egress = resolveEgress(options, 'createContextFetch');
  if (fetchImpl !== undefined && typeof fetchImpl !== 'function') {
    throw invalid(
      `createContextFetch(options, fetchImpl): fetchImpl must be a function (got ${describe(fetchImpl)})`,
    );
  }
  const contextual: Fetch = (input, init) => {
    const send = fetchImpl ?? globalThis.fetch;
    if (egress.to !== undefined) {
      const url = urlOf(input);
      if (url === undefined || !egress.to(url)) return send(input, init);
    }
    const pairs = outgoingHeaders(egress);
    if (pairs.length === 0) return send(input, init);
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    return send(input, { ...init, headers: addHeaders(headers, pairs) });
  };
  // As fetch: an error on the way out (CONTEXT_TOO_LARGE, a `to` that throws, headers fetch
  // refuses) is a rejected promise, never a synchronous throw that `.catch()` would miss.
  return (input, init) => {
    try {
      return contextual(input, init);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * `fetch` with the current context's headers: the context header (every key but local-only
 * ones), to every host. For calls that may leave your network, make one with
 * {@link createContextFetch} and its `to` and `send` options.
 *
 * @example
 * const res = await contextFetch('http://inventory.internal/stock/42');
 */
export const contextFetch: Fetch = createContextFetch();
