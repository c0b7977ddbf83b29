/**
 * The ingress binds each request's listeners through methods on IncomingMessage.prototype (a
 * flag per request, not five methods written on it): listeners of a served request run in the
 * request's scope whatever context emits, and every other IncomingMessage (a client's response)
 * keeps Node's plain behaviour.
 */
import { type EventEmitter, once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  bindEmitter,
  get,
  initialize,
  scope,
  scopeChain,
  set,
  syncCtx,
  tryGet,
} from '../../../src/index.js';
import { fastifyContext, httpContext } from '../../../src/integrations/http/index.js';
import { builder, requestId, user } from './support/keys.js';

initialize(builder);

/** Emits `event` on `emitter` from a scope of another request, as a shared socket would. */
function emitFromElsewhere(emitter: EventEmitter, event: string): void {
  scope('elsewhere', () => {
    set(requestId, 'r-elsewhere');
    emitter.emit(event);
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer(
    { keepAliveTimeout: 1 },
    httpContext((req, res) => handler(req, res), { requestId: { key: requestId } }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

/** Serves one request with `handle` and returns what it answered. */
async function serve(id: string, handle: Handler): Promise<string> {
  handler = handle;
  const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': id } });
  return response.text();
}

describe("a served request's listeners", () => {
  it('run in the request scope through on, addListener, prependListener, once and prependOnceListener', async () => {
    for (const id of ['r-1', 'r-2', 'r-3']) {
      const answer = await serve(id, (req, res) => {
        const reads: string[] = [];
        const note = (how: string) => () => reads.push(`${how}:${String(get(requestId))}`);
        req.on('e', note('on'));
        req.addListener('e', note('add'));
        req.prependListener('e', note('prepend'));
        req.once('e', note('once'));
        req.prependOnceListener('e', note('prependOnce'));
        emitFromElsewhere(req, 'e');
        emitFromElsewhere(req, 'e');
        res.end(reads.join(' '));
      });
      expect(answer).toBe(
        [
          `prependOnce:${id} prepend:${id} on:${id} add:${id} once:${id}`,
          `prepend:${id} on:${id} add:${id}`,
        ].join(' '),
      );
    }
  });

  it('run in the scope that added them, and leave the emitter in its own context, even when they throw', async () => {
    const answer = await serve('r-inner', (req, res) => {
      const reads: string[] = [];
      scope('inner', () => {
        set(user, 'u-inner');
        req.on('e', () => reads.push(`${get(requestId)}/${get(user)}/${scopeChain().join('>')}`));
        req.on('boom', () => {
          throw new Error('listener failed');
        });
      });
      scope('elsewhere', () => {
        set(requestId, 'r-elsewhere');
        syncCtx.scope('sync-elsewhere', () => {
          req.emit('e');
          expect(() => req.emit('boom')).toThrow('listener failed');
          // The emitter's own context, both stores, is as it was.
          reads.push(`${get(requestId)}/${tryGet(user)}/${syncCtx.scopeChain().join('>')}`);
        });
      });
      // Emitted from the request's own scope (as Node emits 'end' after the response): the same.
      req.emit('e');
      res.end(reads.join(' '));
    });
    expect(answer).toBe(
      'r-inner/u-inner/http>inner r-elsewhere/undefined/sync-elsewhere r-inner/u-inner/http>inner',
    );
  });

  it('added outside any scope run in a scope of their own, never in the context that emits', async () => {
    let served: IncomingMessage | undefined;
    await serve('r-outside', (req, res) => {
      served = req;
      res.end();
    });
    const reads: unknown[] = [];
    expect(asyncCtx.isActive()).toBe(false);
    served!.on('e', () => {
      reads.push(tryGet(requestId));
      // A scope opened inside (a fresh run of the store) must not bring the emitter's values back.
      scope('inside', () => reads.push(tryGet(requestId)));
      set(user, 'set-by-listener');
    });
    emitFromElsewhere(served!, 'e');
    emitFromElsewhere(served!, 'e');
    expect(reads).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('can be removed by the original listener, once listeners too', async () => {
    const answer = await serve('r-off', (req, res) => {
      let calls = 0;
      const listener = () => calls++;
      const onceListener = () => calls++;
      req.on('e', listener);
      req.once('e', onceListener);
      const listed = req.listeners('e');
      req.off('e', listener);
      req.off('e', onceListener);
      emitFromElsewhere(req, 'e');
      res.end(`${calls} ${req.listenerCount('e')} ${listed.length}`);
    });
    expect(answer).toBe('0 0 2');
  });

  it('are not bound twice when the handler calls bindEmitter(req) too', async () => {
    const answer = await serve('r-twice', (req, res) => {
      const reads: unknown[] = [];
      bindEmitter(req).on('e', () => reads.push(get(requestId)));
      emitFromElsewhere(req, 'e');
      res.end(JSON.stringify([reads, Object.hasOwn(req, 'on')]));
    });
    expect(JSON.parse(answer)).toEqual([['r-twice'], false]);
  });

  it('are bound on a request whose methods another library patched on the instance', async () => {
    const answer = await serve('r-patched', (req, res) => {
      const reads: unknown[] = [];
      req.on('e', () => reads.push(get(requestId)));
      emitFromElsewhere(req, 'e');
      res.end(String(reads));
    });
    expect(answer).toBe('r-patched');
    // The next request's `on` is patched by "another library" before the ingress sees it.
    server.prependOnceListener('request', (req: IncomingMessage) => {
      const on = req.on;
      req.on = function (this: IncomingMessage, ...args: Parameters<typeof on>) {
        return on.apply(this, args);
      } as typeof on;
    });
    const patched = await serve('r-patched-2', (req, res) => {
      const reads: unknown[] = [];
      req.on('e', () => reads.push(get(requestId)));
      emitFromElsewhere(req, 'e');
      res.end(String(reads));
    });
    expect(patched).toBe('r-patched-2');
  });
});

describe('an IncomingMessage no ingress served', () => {
  it("keeps Node's behaviour: a client response's listener runs in the context that emits", async () => {
    await serve('r-first', (_req, res) => res.end('served')); // the prototype methods are in place
    const other = http.createServer((_req, res) => res.end('plain'));
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const reads = await scope('client', async () => {
        set(requestId, 'r-client');
        const [response] = (await once(
          http.get(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`),
          'response',
        )) as [IncomingMessage];
        const seen: unknown[] = [];
        response.on('e', () => seen.push(tryGet(requestId)));
        response.once('e', () => seen.push(tryGet(requestId)));
        response.resume();
        emitFromElsewhere(response, 'e');
        await once(response, 'end');
        return seen;
      });
      expect(reads).toEqual(['r-elsewhere', 'r-elsewhere']);
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });
});

describe('a listener added to a served request from a context every request shares', () => {
  it('runs in a scope of its own: its writes never reach the shared scope, nor later requests', async () => {
    // The server is started in a scope of the app; a 'request' listener registered after the
    // ingress runs in that shared context and adds a listener that writes.
    const shared = await scope('app', async () => {
      const app = http.createServer(
        httpContext(
          (req, res) => {
            req.resume();
            req.on('end', () => res.end(`${tryGet(requestId)}:${String(tryGet(user))}`));
          },
          { requestId: { key: requestId } },
        ),
      );
      app.on('request', (req: IncomingMessage) => {
        req.on('data', () => set(user, `uploader-of-${String(req.headers['x-request-id'])}`));
      });
      app.listen(0, '127.0.0.1');
      await once(app, 'listening');
      return app;
    });
    const url = `http://127.0.0.1:${(shared.address() as AddressInfo).port}/`;
    const answers: string[] = [];
    for (const [id, body] of [
      ['r-1', 'upload'],
      ['r-2', undefined],
      ['r-3', 'x'],
    ] as const) {
      const headers = { 'x-request-id': id };
      const response = await fetch(
        url,
        body === undefined ? { headers } : { method: 'POST', body, headers },
      );
      answers.push(await response.text());
    }
    shared.closeAllConnections();
    shared.close();
    expect(answers).toEqual(['r-1:undefined', 'r-2:undefined', 'r-3:undefined']);
  });
});

/** Writes `ids` as pipelined HTTP/1.1 requests on one socket and waits for every answer. */
async function pipeline(port: number, ids: string[]): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
  });
  socket.write(
    ids.map((id) => `GET /p HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\n\r\n`).join(''),
  );
  while ((received.match(/HTTP\/1\.1 200/g) ?? []).length < ids.length) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  socket.destroy();
}

describe('pipelined requests (HTTP/1.1, one socket, written back to back)', () => {
  const ids = ['p-a', 'p-b', 'p-c', 'p-d'];
  // The first answers last, so the others' responses queue behind it and are flushed from its
  // 'finish': their own 'finish' must still run in their own request's scope.
  const delay = (id: string) =>
    new Promise((resolve) => setTimeout(resolve, id === 'p-a' ? 40 : 1));

  it("run each response's 'finish' listeners in its own request's scope (node:http)", async () => {
    const seen: string[] = [];
    const pipelined = http.createServer(
      httpContext(
        async (req, res) => {
          const id = String(req.headers['x-request-id']);
          res.on('finish', () => seen.push(`${id}=${String(tryGet(requestId))}`));
          await delay(id);
          res.end('ok');
        },
        { requestId: { key: requestId } },
      ),
    );
    pipelined.listen(0, '127.0.0.1');
    await once(pipelined, 'listening');
    await pipeline((pipelined.address() as AddressInfo).port, ids);
    pipelined.close();
    expect(seen.sort()).toEqual(ids.map((id) => `${id}=${id}`));
  });

  it("run Fastify's onResponse hooks in their own request's scope", async () => {
    const seen: string[] = [];
    const app = Fastify();
    await app.register(fastifyContext, { requestId: { key: requestId } });
    app.addHook('onResponse', async (request) => {
      seen.push(`${String(request.headers['x-request-id'])}=${String(tryGet(requestId))}`);
    });
    app.get('/p', async (request) => {
      await delay(String(request.headers['x-request-id']));
      return 'ok';
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await pipeline((app.server.address() as AddressInfo).port, ids);
    await app.close();
    expect(seen.sort()).toEqual(ids.map((id) => `${id}=${id}`));
  });
});
