import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, invalid } from './check.js';
import { type Door, rejectResponse, runRequest } from './ingress.js';
import { resolveIngress } from './ingress-options.js';
import type { IngressOptions } from './types.js';

/**
 * Wraps a `node:http` request listener so each request runs in its own scope, with the inbound
 * context the options allow (see {@link IngressOptions}).
 *
 * @example
 * http.createServer(httpContext((req, res) => res.end(get(requestId)), { requestId: { key: requestId } }));
 */
export function httpContext<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse<Req> = ServerResponse<Req>,
>(listener: (req: Req, res: Res) => void, options?: IngressOptions): (req: Req, res: Res) => void {
  if (typeof listener !== 'function') {
    throw invalid(
      `httpContext(listener, options?) takes the request listener first (got ${describe(listener)})`,
    );
  }
  const ingress = resolveIngress(options, 'httpContext');
  const door: Door<Req, Res, void> = {
    next: (req, res) => listener(req, res),
    reject: (_req, res, error) => rejectResponse(res, error),
    setHeader: (_req, res, name, value) => res.setHeader(name, value),
  };
  return (req, res) => {
    runRequest(ingress, req, res, door, req, res);
  };
}
