/** Real servers on 127.0.0.1 (port 0) for each ingress, and helpers to start and stop them. */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  expressContext,
  fastifyContext,
  httpContext,
  type IngressOptions,
} from '../../../../src/integrations/http/index.js';

export type Framework = 'node:http' | 'express' | 'fastify';
export const FRAMEWORKS: readonly Framework[] = ['node:http', 'express', 'fastify'];

/** What a route does, framework-neutral: gets the raw request, answers with JSON. */
export type Route = (req: IncomingMessage) => Promise<unknown>;

export interface Running {
  readonly url: string;
  close(): Promise<void>;
}

function urlOf(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function listen(server: http.Server): Promise<Running> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: urlOf(server),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(text);
}

/**
 * Starts `route` behind the given ingress. A route that throws answers 500 with
 * `{ error: message }` (through the framework's error handler where there is one).
 * `raw` (Fastify) registers a parser that hands the route the unread request stream.
 */
export async function startServer(
  framework: Framework,
  route: Route,
  options: IngressOptions,
  configure?: (app: FastifyInstance) => void,
): Promise<Running> {
  if (framework === 'node:http') {
    const server = http.createServer(
      httpContext((req, res) => {
        route(req).then(
          (body) => sendJson(res, 200, body),
          (error: Error) => sendJson(res, 500, { error: error.message }),
        );
      }, options),
    );
    return listen(server);
  }
  if (framework === 'express') {
    const app = express();
    app.use(expressContext(options));
    app.all('/{*path}', (req, res, next) => {
      route(req).then((body) => res.json(body), next);
    });
    app.use(
      (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).json({ error: error.message });
      },
    );
    return listen(http.createServer(app));
  }
  const app = Fastify();
  await app.register(fastifyContext, options);
  // Leave the body unread: the route reads the stream itself, with req.on('data'/'end').
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  if (configure !== undefined) configure(app);
  else {
    app.setErrorHandler((error: Error, _request, reply) => {
      reply.code(500).send({ error: error.message });
    });
  }
  app.all('/*', (request) => route(request.raw));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: urlOf(app.server), close: () => app.close() };
}

/** The request body, read with `req.on('data'/'end')`, and a value read in the 'end' listener. */
export function readBody<T>(req: IncomingMessage, atEnd: () => T): Promise<[string, T]> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve([body, atEnd()]));
    req.on('error', reject);
  });
}
