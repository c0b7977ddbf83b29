import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Door, rejectResponse, runRequest } from './ingress.js';
import { resolveIngress } from './ingress-options.js';
import type { IngressOptions } from './types.js';

/** An Express / connect middleware (typed on Node's request and response, which Express extends). */
export type ContextMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Goes on with `next()` (no argument: an error would skip to the error handlers). */
const EXPRESS_DOOR: Door<ServerResponse, (error?: unknown) => void, void> = {
  next: (_res, next) => next(),
  reject: (res, _next, error) => rejectResponse(res, error),
  setHeader: (res, _next, name, value) => res.setHeader(name, value),
};

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
    runRequest(ingress, req, res, EXPRESS_DOOR, res, next);
  };
}
