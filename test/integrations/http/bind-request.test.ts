/**
 * The ingress binds each request's listeners through methods on IncomingMessage.prototype (a
 * flag per request, not five methods written on it): listeners of a served request run in the
 * request's scope whatever context emits, and every other IncomingMessage (a client's response)
 * keeps Node's plain behaviour.
 */
import { type EventEmitter, once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { httpContext } from '../../../src/integrations/http/index.js';
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

  it('added outside any scope run outside any scope, not in the context that emits', async () => {
    let served: IncomingMessage | undefined;
    await serve('r-outside', (req, res) => {
      served = req;
      res.end();
    });
    const reads: unknown[] = [];
    expect(asyncCtx.isActive()).toBe(false);
    served!.on('e', () => reads.push([tryGet(requestId), asyncCtx.isActive()]));
    emitFromElsewhere(served!, 'e');
    expect(reads).toEqual([[undefined, false]]);
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
