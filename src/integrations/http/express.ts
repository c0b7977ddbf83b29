import type { IncomingMessage, ServerResponse } from 'node:http';
import { rejectResponse, runRequest } from './ingress.js';
import { resolveIngress } from './ingress-options.js';
import type { IngressOptions } from './types.js';

/** An Express / connect middleware (typed on Node's request and response, which Express extends). */
export type ContextMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Express / connect middleware: every middleware and route after it runs in the request's own
 * scope, with the inbound context the options allow (see {@link IngressOptions}). Register it
 * first.
 *
 * @example
 * app.use(expressContext({ requestId: { key: requestId } }));
 */
export function expressContext(options?: IngressOptions): ContextMiddleware {
  const ingress = resolveIngress(options, 'expressContext');
  return (req, res, next) => {
    runRequest(
      ingress,
      req,
      res,
      () => next(),
      (error) => rejectResponse(res, error),
    );
  };
}
