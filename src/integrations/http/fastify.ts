import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DContextError } from '../../index.js';
import { type Door, runRequest } from './ingress.js';
import { resolveIngress } from './ingress-options.js';
import type { IngressOptions } from './types.js';

/** The part of a Fastify request this plugin uses. */
interface FastifyRequestLike {
  readonly raw: IncomingMessage;
}

/** The part of a Fastify reply this plugin uses. */
interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

type OnRequestHook = (
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
  done: (error?: Error) => void,
) => void;

/** The part of a Fastify instance this plugin uses (structural: dcontext does not load fastify). */
export interface FastifyInstanceLike {
  addHook(name: 'onRequest', hook: OnRequestHook): unknown;
}

// Fastify runs the rest of the request (hooks, handler) from within `next()`: entered inside the
// scope, all of it, and every promise and listener made there, stays in it.
const FASTIFY_DOOR: Door<FastifyReplyLike, (error?: Error) => void, void> = {
  next: (_reply, next) => next(),
  reject: (reply, _next, error: DContextError) => {
    reply.code(400).send({ error: error.code, message: error.message });
  },
  // Through Fastify, as its own plugins set headers, not on `reply.raw`: a header already on the
  // raw response makes Node merge the headers Fastify passes to writeHead into it one by one.
  setHeader: (reply, _next, name, value) => {
    reply.header(name, value);
  },
};

/** The Fastify plugin type of {@link fastifyContext}. */
export type FastifyContextPlugin = ((
  instance: FastifyInstanceLike,
  options: IngressOptions,
  done: (error?: Error) => void,
) => void) & { readonly [key: symbol]: unknown };

/**
 * A Fastify plugin: every request runs in its own scope, with the inbound context the options
 * allow (see {@link IngressOptions}), from `onRequest` through the route handler, the error
 * handler and `onResponse`. It is not encapsulated (it applies to the whole app, like a plugin
 * wrapped by `fastify-plugin`): register it on the root instance, before the routes.
 *
 * @example
 * await app.register(fastifyContext, { requestId: { key: requestId } });
 */
export const fastifyContext: FastifyContextPlugin = Object.assign(
  (instance: FastifyInstanceLike, options: IngressOptions, done: (error?: Error) => void) => {
    let hook: OnRequestHook;
    try {
      const ingress = resolveIngress(options, 'fastifyContext');
      hook = (request, reply, next) => {
        runRequest(ingress, request.raw, reply.raw, FASTIFY_DOOR, reply, next);
      };
    } catch (error) {
      done(error as Error);
      return;
    }
    instance.addHook('onRequest', hook);
    done();
  },
  {
    // What fastify-plugin sets: the plugin's hooks apply to the instance it is registered on
    // and all its children, not only an encapsulated context of its own.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'dcontext',
    [Symbol.for('plugin-meta')]: { name: 'dcontext', fastify: '>=4' },
  },
);
