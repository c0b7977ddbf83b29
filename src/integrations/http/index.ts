/**
 * `dcontext/http`: request context at the HTTP edge. Ingress for node:http, Express and
 * Fastify (a scope per request, inbound context bounded by `accept`), egress for any client
 * (`injectHeaders`, `contextFetch`, an undici interceptor; bounded by `send` and `to`).
 * Loads none of express, fastify or undici: they are the caller's.
 */
export { type ContextMiddleware, expressContext } from './express.js';
export { type FastifyContextPlugin, type FastifyInstanceLike, fastifyContext } from './fastify.js';
export { contextFetch, createContextFetch, type Fetch } from './fetch.js';
export { type HeaderRecord, type HeaderTarget, injectHeaders } from './inject.js';
export {
  type ContextInterceptor,
  contextInterceptor,
  type DispatchLike,
  type DispatchOptionsLike,
} from './interceptor.js';
export { httpContext } from './node-http.js';
export type {
  EgressOptions,
  EgressRequestIdOptions,
  IngressOptions,
  IngressReport,
  IngressRequestIdOptions,
  KeyList,
} from './types.js';
