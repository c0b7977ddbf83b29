/**
 * Egress: the headers an outgoing call carries (`injectHeaders`, `contextFetch`, the undici
 * interceptor), checked on a real server that records what arrives.
 */
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  deserialize,
  initialize,
  scope,
  set,
  toDebugJSON,
  withContext,
} from '../../../src/index.js';
import {
  contextFetch,
  contextInterceptor,
  createContextFetch,
  injectHeaders,
} from '../../../src/integrations/http/index.js';
import { wireBytes } from '../../wire/support/wire-bytes.js';
import { builder, requestId, secret, tenant, user } from './support/keys.js';

beforeAll(() => initialize(builder));

// A server that answers with the headers it received.
let url = '';
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req.headers));
});
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** The keys a context header carries, decoded as the receiver would. */
function keysIn(header: unknown): string[] {
  if (typeof header !== 'string') return [];
  return toDebugJSON(deserialize(header)).entries.map((entry) => entry.key);
}

/** Runs `fn` in a request-like scope with a request id, a tenant, a user and a local secret. */
function inRequest<R>(fn: () => R): R {
  return scope('http', () => {
    set(requestId, 'r-1');
    set(tenant, 'acme');
    set(user, 'u-1');
    set(secret, 'never-sent');
    return fn();
  });
}

describe('injectHeaders', () => {
  it('adds the context header to a new plain object; the receiver gets every key but local-only ones', () => {
    const headers = inRequest(() => injectHeaders());
    expect(Object.keys(headers)).toEqual(['x-dcontext']);
    expect(keysIn(headers['x-dcontext'])).toEqual(['request_id', 'tenant', 'user']);
    expect(deserialize(headers['x-dcontext'] as string).scopeChain).toEqual(['http']);
  });

  it('writes into a Headers and returns it', () => {
    const target = new Headers({ accept: 'application/json' });
    const same = inRequest(() => injectHeaders(target));
    expect(same).toBe(target);
    expect(keysIn(target.get('x-dcontext'))).toEqual(['request_id', 'tenant', 'user']);
    expect(target.get('accept')).toBe('application/json');
  });

  it('writes into an http.ClientRequest through setHeader', async () => {
    const received = await inRequest(
      () =>
        new Promise<IncomingHttpHeaders>((resolve, reject) => {
          const req = http.request(url, (res) => {
            let body = '';
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve(JSON.parse(body) as IncomingHttpHeaders));
          });
          req.on('error', reject);
          injectHeaders(req, { requestId: { key: requestId } });
          req.end();
        }),
    );
    expect(received['x-request-id']).toBe('r-1');
    expect(keysIn(received['x-dcontext'])).toEqual(['request_id', 'tenant', 'user']);
  });

  it('leaves a header the caller already set, whatever its case', () => {
    const headers = inRequest(() =>
      injectHeaders({ 'X-Request-Id': 'mine' }, { requestId: { key: requestId } }),
    );
    expect(headers).toEqual({ 'X-Request-Id': 'mine', 'x-dcontext': expect.any(String) });
  });

  it('adds nothing outside any scope, where the context is empty', () => {
    expect(injectHeaders({})).toEqual({});
  });

  it('sends only the keys send lists, and the request id and mapped plain headers', () => {
    const headers = inRequest(() =>
      injectHeaders(
        {},
        {
          send: [requestId],
          headers: { 'x-tenant': tenant },
          requestId: { key: requestId, header: 'x-correlation-id' },
        },
      ),
    );
    expect(keysIn(headers['x-dcontext'])).toEqual(['request_id']);
    expect(headers['x-tenant']).toBe('acme');
    expect(headers['x-correlation-id']).toBe('r-1');
  });

  it("sends no context header with send: 'none', the plain ones still", () => {
    const headers = inRequest(() =>
      injectHeaders({}, { send: 'none', headers: { 'x-tenant': tenant } }),
    );
    expect(headers).toEqual({ 'x-tenant': 'acme' });
  });

  it('bounds entries forwarded from upstream for keys this process does not know', () => {
    const upstream = deserialize(
      wireBytes(
        ['edge'],
        [
          { name: 'request_id', version: 1, value: 'r-up' },
          { name: 'cart', version: 1, value: 'c-9' },
        ],
      ),
    );
    const all = withContext(upstream, () => injectHeaders());
    expect(keysIn(all['x-dcontext'])).toEqual(['request_id', 'cart']);
    const bounded = withContext(upstream, () => injectHeaders({}, { send: ['request_id'] }));
    expect(keysIn(bounded['x-dcontext'])).toEqual(['request_id']);
  });

  it('never sends a local-only key, even when send lists it or a plain header maps it', () => {
    const headers = inRequest(() =>
      injectHeaders({}, { send: [secret, user], headers: { 'x-secret': secret } }),
    );
    expect(keysIn(headers['x-dcontext'])).toEqual(['user']);
    expect(headers['x-secret']).toBeUndefined();
  });

  it('skips a plain value a header cannot carry (CR, LF, control characters)', () => {
    const headers = scope(() => {
      set(tenant, 'acme');
      set('user', 'evil\r\nx-admin: 1');
      return injectHeaders({}, { send: 'none', headers: { 'x-user': user, 'x-tenant': tenant } });
    });
    expect(headers).toEqual({ 'x-tenant': 'acme' });
  });

  it('refuses options that mean nothing with INVALID_ARGUMENT', () => {
    expect(() => injectHeaders({}, { send: 'some' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => injectHeaders({}, { header: 'not a header' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => injectHeaders('x' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

/** The headers the server saw, from a fetch Response or an undici `request` result. */
async function received(
  response: { json(): Promise<unknown> } | { body: { json(): Promise<unknown> } },
) {
  return (
    'json' in response ? await response.json() : await response.body.json()
  ) as IncomingHttpHeaders;
}

describe('contextFetch', () => {
  it('sends the context header with the global fetch, keeping the caller’s headers', async () => {
    const headers = await inRequest(async () =>
      received(await contextFetch(`${url}/a`, { headers: { accept: 'text/plain' } })),
    );
    expect(keysIn(headers['x-dcontext'])).toEqual(['request_id', 'tenant', 'user']);
    expect(headers.accept).toBe('text/plain');
  });

  it('keeps the headers of a Request given as input', async () => {
    const headers = await inRequest(async () =>
      received(await contextFetch(new Request(`${url}/b`, { headers: { 'x-from': 'request' } }))),
    );
    expect(headers['x-from']).toBe('request');
    expect(headers['x-dcontext']).toEqual(expect.any(String));
  });

  it('sends nothing to a destination `to` refuses', async () => {
    const internalOnly = createContextFetch({ to: (target) => target.hostname === 'api.internal' });
    const headers = await inRequest(async () => received(await internalOnly(`${url}/c`)));
    expect(headers['x-dcontext']).toBeUndefined();
    const allowed = createContextFetch({ to: (target) => target.hostname === '127.0.0.1' });
    expect(
      (await inRequest(async () => received(await allowed(`${url}/c`))))['x-dcontext'],
    ).toEqual(expect.any(String));
  });

  it('reads the context when the call is made, after awaits', async () => {
    const seen = await asyncCtx.scope(async () => {
      set(requestId, 'before');
      await new Promise((resolve) => setTimeout(resolve, 1));
      set(requestId, 'after');
      return received(
        await createContextFetch({ send: 'none', requestId: { key: requestId } })(`${url}/d`),
      );
    });
    expect(seen['x-request-id']).toBe('after');
  });
});

describe('contextInterceptor (undici 7)', () => {
  const agent = new Agent().compose(
    contextInterceptor({ requestId: { key: requestId }, headers: { 'x-tenant': tenant } }),
  );
  afterAll(() => agent.close());

  it("adds the headers to undici's request through a composed Agent", async () => {
    const headers = await inRequest(async () =>
      received(await request(`${url}/e`, { dispatcher: agent, headers: { accept: 'x/y' } })),
    );
    expect(headers['x-request-id']).toBe('r-1');
    expect(headers['x-tenant']).toBe('acme');
    expect(headers.accept).toBe('x/y');
    expect(keysIn(headers['x-dcontext'])).toEqual(['request_id', 'tenant', 'user']);
  });

  it("adds them to undici's fetch, and leaves a header the caller set", async () => {
    const headers = await inRequest(async () =>
      received(
        await undiciFetch(`${url}/f`, { dispatcher: agent, headers: { 'x-request-id': 'mine' } }),
      ),
    );
    expect(headers['x-request-id']).toBe('mine');
    expect(headers['x-tenant']).toBe('acme');
  });

  it('takes headers given as a flat list', async () => {
    const headers = await inRequest(async () =>
      received(await request(`${url}/g`, { dispatcher: agent, headers: ['x-list', '1'] })),
    );
    expect(headers['x-list']).toBe('1');
    expect(headers['x-request-id']).toBe('r-1');
  });

  it('sends nothing to a destination `to` refuses', async () => {
    const guarded = new Agent().compose(contextInterceptor({ to: () => false }));
    try {
      const headers = await inRequest(async () =>
        received(await request(`${url}/h`, { dispatcher: guarded })),
      );
      expect(headers['x-dcontext']).toBeUndefined();
    } finally {
      await guarded.close();
    }
  });

  it('gets the URL it checks from the origin and path of the call', async () => {
    const urls: string[] = [];
    const watching = new Agent().compose(
      contextInterceptor({
        to: (target) => {
          urls.push(target.href);
          return true;
        },
      }),
    );
    try {
      await inRequest(async () =>
        received(await request(`${url}/i?q=1`, { dispatcher: watching })),
      );
      expect(urls).toEqual([`${url}/i?q=1`]);
    } finally {
      await watching.close();
    }
  });
});
