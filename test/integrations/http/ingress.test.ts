/**
 * The three ingresses (node:http, Express, Fastify) behind real servers, called with a real
 * undici client: the same options and the same behaviour everywhere.
 */
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  get,
  initialize,
  scopeChain,
  serializeToString,
  syncCtx,
  tryGet,
} from '../../../src/index.js';
import {
  httpContext,
  type IngressOptions,
  type IngressReport,
} from '../../../src/integrations/http/index.js';
import { wireBytes } from '../../wire/support/wire-bytes.js';
import { builder, requestId, secret, tenant, user } from './support/keys.js';
import {
  FRAMEWORKS,
  type Framework,
  type Running,
  readBody,
  startServer,
} from './support/servers.js';

// At load: the table of bad headers below is built with serializeToString.
initialize(builder);

/** What the test route answers: the request's context as the handler sees it. */
interface Seen {
  rid?: string;
  tenant?: string;
  user?: string;
  chain: string[];
  body?: string;
  atEnd?: string;
}

const route = async (req: IncomingMessage): Promise<Seen> => {
  await sleep(1);
  await immediate();
  const seen: Seen = { chain: scopeChain() };
  const [rid, t, u] = [tryGet(requestId), tryGet(tenant), tryGet(user)];
  if (rid !== undefined) seen.rid = rid;
  if (t !== undefined) seen.tenant = t;
  if (u !== undefined) seen.user = u;
  if (req.method === 'POST') {
    const [body, atEnd] = await readBody(req, () => tryGet(requestId));
    seen.body = body;
    if (atEnd !== undefined) seen.atEnd = atEnd;
  }
  return seen;
};

function contextHeader(values: { user?: string; tenant?: string }, chain: string[] = []): string {
  const open = (names: string[], fn: () => string): string =>
    names.length === 0 ? fn() : syncCtx.scope(names[0]!, () => open(names.slice(1), fn));
  return open(chain, () =>
    syncCtx.scope(() => {
      if (values.user !== undefined) syncCtx.set(user, values.user);
      if (values.tenant !== undefined) syncCtx.set(tenant, values.tenant);
      return serializeToString();
    }),
  );
}

interface Call {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

async function call(
  server: Running,
  headers: Record<string, string | string[]> = {},
  body?: string,
): Promise<Call> {
  const response = await request(`${server.url}/x`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body ?? null,
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: await response.body.json(),
  };
}

describe.each(FRAMEWORKS)('%s ingress', (framework: Framework) => {
  const servers: Running[] = [];
  const reports: { error: DContextError; report: IngressReport; url?: string }[] = [];
  const onError = (error: DContextError, req: IncomingMessage, report: IngressReport) => {
    if (req.headers === undefined) throw new Error('onError must get the request');
    reports.push({ error, report });
  };
  async function serve(options: IngressOptions): Promise<Running> {
    const server = await startServer(framework, route, { onError, ...options });
    servers.push(server);
    return server;
  }
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('runs each request in a fresh scope named http, with nothing of another request', async () => {
    const server = await serve({ headers: { 'x-tenant': tenant } });
    const [a, b, c] = await Promise.all([
      call(server, { 'x-tenant': 'acme' }),
      call(server, { 'x-tenant': 'globex' }),
      call(server),
    ]);
    expect(a.body).toEqual({ chain: ['http'], tenant: 'acme' });
    expect(b.body).toEqual({ chain: ['http'], tenant: 'globex' });
    expect(c.body).toEqual({ chain: ['http'] });
  });

  it('names the scope from the request when name is a function', async () => {
    const server = await serve({ name: (req) => `${req.method} /x` });
    expect((await call(server)).body).toEqual({ chain: ['GET /x'] });
  });

  it('takes the request id from its header and echoes it', async () => {
    const server = await serve({ requestId: { key: requestId } });
    const result = await call(server, { 'x-request-id': 'abc-123' });
    expect(result.body).toMatchObject({ rid: 'abc-123' });
    expect(result.headers['x-request-id']).toBe('abc-123');
  });

  it('makes a request id when none is sent, with generate, and echoes it', async () => {
    let n = 0;
    const server = await serve({ requestId: { key: requestId, generate: () => `gen-${++n}` } });
    const result = await call(server);
    expect(result.body).toMatchObject({ rid: expect.stringMatching(/^gen-\d+$/) });
    expect(result.headers['x-request-id']).toBe((result.body as Seen).rid);
  });

  it('does not echo the request id with echo: false, and reads a custom header', async () => {
    const server = await serve({
      requestId: { key: requestId, header: 'x-correlation-id', echo: false },
    });
    const result = await call(server, { 'x-correlation-id': 'c-1' });
    expect(result.body).toMatchObject({ rid: 'c-1' });
    expect(result.headers['x-correlation-id']).toBeUndefined();
  });

  it("accepts no key from the context header by default ('none'), reporting each as NOT_ACCEPTED with the count", async () => {
    const server = await serve({});
    reports.length = 0;
    const header = contextHeader({ user: 'mallory', tenant: 'victim-corp' }, ['upstream']);
    const result = await call(server, { 'x-dcontext': header });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ chain: ['http'] });
    expect(reports.map((r) => [r.error.code, r.error.key, r.report.notAccepted])).toEqual([
      ['NOT_ACCEPTED', 'tenant', 2],
      ['NOT_ACCEPTED', 'user', 2],
    ]);
  });

  it('bounds the reports of a header made of many tiny unknown entries, keeping the exact count', async () => {
    const server = await serve({});
    reports.length = 0;
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      name: `k${i}`,
      version: 1,
      value: 0,
    }));
    const header = Buffer.from(wireBytes([], entries)).toString('base64url');
    expect(header.length).toBeLessThan(16 * 1024); // fits Node's header limit
    const result = await call(server, { 'x-dcontext': header });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ chain: ['http'] });
    expect(reports).toHaveLength(17);
    expect(
      reports.every((r) => r.error.code === 'NOT_ACCEPTED' && r.report.notAccepted === 1000),
    ).toBe(true);
    expect(reports.slice(0, 16).map((r) => r.error.key)).toEqual(
      Array.from({ length: 16 }, (_, i) => `k${i}`),
    );
    expect(reports[16]!.error.message).toContain('984 more context entries');
  });

  it("takes every key and the caller's scope chain with accept: 'all'", async () => {
    const server = await serve({ accept: 'all' });
    const header = contextHeader({ user: 'u-1', tenant: 'acme' }, ['gateway']);
    expect((await call(server, { 'x-dcontext': header })).body).toEqual({
      chain: ['gateway', 'http'],
      tenant: 'acme',
      user: 'u-1',
    });
  });

  it('takes only the listed keys, dropping and counting the others', async () => {
    const server = await serve({ accept: [user] });
    reports.length = 0;
    const header = contextHeader({ user: 'u-2', tenant: 'victim-corp' });
    expect((await call(server, { 'x-dcontext': header })).body).toEqual({
      chain: ['http'],
      user: 'u-2',
    });
    expect(reports.map((r) => [r.error.code, r.error.key, r.report.notAccepted])).toEqual([
      ['NOT_ACCEPTED', 'tenant', 1],
    ]);
  });

  it('uses the request id carried in an accepted context header when no id header is sent', async () => {
    const server = await serve({ accept: 'all', requestId: { key: requestId } });
    const header = syncCtx.scope(() => {
      syncCtx.set(requestId, 'from-upstream');
      return serializeToString();
    });
    const result = await call(server, { 'x-dcontext': header });
    expect(result.body).toMatchObject({ rid: 'from-upstream' });
    expect(result.headers['x-request-id']).toBe('from-upstream');
  });

  it('reads a POST body with req.on("data"/"end") in the request scope', async () => {
    const server = await serve({ requestId: { key: requestId } });
    const result = await call(server, { 'x-request-id': 'post-1' }, 'hello');
    expect(result.body).toMatchObject({ rid: 'post-1', body: 'hello', atEnd: 'post-1' });
  });

  const bad: [string, Record<string, string | string[]>][] = [
    ['a context header that is not base64', { 'x-dcontext': '%%%not-base64%%%' }],
    ['a context header that is not dcontext data', { 'x-dcontext': 'aGVsbG8' }],
    [
      'a context header sent twice',
      { 'x-dcontext': [contextHeader({ user: 'a' }), contextHeader({ user: 'b' })] },
    ],
    ['a request id with a space', { 'x-request-id': 'a b' }],
    ['a request id of 129 characters', { 'x-request-id': 'r'.repeat(129) }],
    ['a mapped header its key refuses', { 'x-tenant': 'NOT VALID!' }],
  ];

  it.each(bad)(
    'ignores %s by default: no inbound entry at all, a fresh id, one report',
    async (_, headers) => {
      const server = await serve({
        accept: 'all',
        headers: { 'x-tenant': tenant },
        requestId: { key: requestId, generate: () => 'fresh' },
      });
      reports.length = 0;
      // A good user entry next to the bad part: all or nothing, never a partial context.
      const withUser =
        'x-dcontext' in headers
          ? headers
          : { ...headers, 'x-dcontext': contextHeader({ user: 'u-9' }) };
      const result = await call(server, { 'x-tenant': 'acme', ...withUser });
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ chain: ['http'], rid: 'fresh' });
      expect(result.headers['x-request-id']).toBe('fresh');
      expect(reports).toHaveLength(1);
      expect(['DECODE_FAILED', 'TYPE_MISMATCH']).toContain(reports[0]!.error.code);
    },
  );

  it.each(bad)(
    "answers 400 with { error, message } for %s with onInvalid: 'reject'",
    async (_, headers) => {
      const server = await serve({
        accept: 'all',
        headers: { 'x-tenant': tenant },
        requestId: { key: requestId },
        onInvalid: 'reject',
      });
      const result = await call(server, headers, 'body that is never read');
      expect(result.status).toBe(400);
      expect(result.body).toEqual({
        error: expect.stringMatching(/^(DECODE_FAILED|TYPE_MISMATCH)$/),
        message: expect.any(String),
      });
    },
  );

  it('refuses a context header not signed with verifyKeys', async () => {
    const key = 'a-signing-key-of-32-bytes-length';
    const server = await serve({ accept: 'all', verifyKeys: [key], onInvalid: 'reject' });
    const signed = syncCtx.scope(() => {
      syncCtx.set(user, 'u-s');
      return serializeToString(undefined, { signingKey: key });
    });
    expect((await call(server, { 'x-dcontext': signed })).body).toEqual({
      chain: ['http'],
      user: 'u-s',
    });
    const unsigned = contextHeader({ user: 'u-s' });
    expect((await call(server, { 'x-dcontext': unsigned })).body).toMatchObject({
      error: 'BAD_SIGNATURE',
    });
  });

  it('never lets a local-only key in from the wire: the whole header is refused', async () => {
    const server = await serve({ accept: 'all' });
    reports.length = 0;
    const forged = Buffer.from(
      wireBytes(
        [],
        [
          { name: 'user', version: 1, value: 'u-1' },
          { name: secret.name, version: 1, value: 'forged' },
        ],
      ),
    ).toString('base64url');
    expect((await call(server, { 'x-dcontext': forged })).body).toEqual({ chain: ['http'] });
    expect(reports.map((r) => [r.error.code, r.error.key])).toEqual([['DECODE_FAILED', 'secret']]);
  });
});

describe('fastify ingress', () => {
  it('shows the request context in every hook, the handler and the error handler', async () => {
    const seen: Record<string, string[]> = {};
    const note = (where: string, expected: unknown) => {
      const list = (seen[where] ??= []);
      list.push(tryGet(requestId) === expected ? 'ok' : `saw ${String(tryGet(requestId))}`);
    };
    const hooks = [
      'onRequest',
      'preParsing',
      'preValidation',
      'preHandler',
      'preSerialization',
      'onSend',
      'onResponse',
      'onError',
    ] as const;
    const server = await startServer(
      'fastify',
      async (req) => {
        await sleep(Math.random() * 3);
        if (req.url?.includes('fail')) throw new Error('boom');
        return { rid: get(requestId) };
      },
      { requestId: { key: requestId } },
      (app) => {
        for (const hook of hooks) {
          app.addHook(hook as 'onRequest', async (request) => {
            note(hook, request.headers['x-request-id']);
          });
        }
        app.setErrorHandler(async (error: Error, request, reply) => {
          note('errorHandler', request.headers['x-request-id']);
          await sleep(1);
          note('errorHandler', request.headers['x-request-id']);
          return reply.code(500).send({ error: error.message, rid: tryGet(requestId) });
        });
      },
    );
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const response = await request(`${server.url}/${i % 2 ? 'ok' : 'fail'}`, {
            headers: { 'x-request-id': `f-${i}` },
          });
          return [response.statusCode, await response.body.json()] as const;
        }),
      );
      results.forEach(([status, body], i) => {
        expect(status).toBe(i % 2 ? 200 : 500);
        expect(body).toMatchObject({ rid: `f-${i}` });
      });
      await sleep(50); // onResponse runs after the client has the response
      for (const where of [...hooks, 'errorHandler']) {
        const list = seen[where] ?? [];
        expect({ where, bad: list.filter((s) => s !== 'ok') }).toEqual({ where, bad: [] });
        expect(list.length, where).toBeGreaterThanOrEqual(where === 'onError' ? 20 : 40);
      }
    } finally {
      await server.close();
    }
  });
});

describe('response listeners', () => {
  it("a res.on('finish'/'close') listener the handler adds runs in the request's scope", async () => {
    const bad: string[] = [];
    let finished = 0;
    const server = http.createServer(
      httpContext(
        (req, res) => {
          const expected = req.headers['x-request-id'];
          for (const event of ['finish', 'close'] as const) {
            res.on(event, () => {
              finished++;
              if (tryGet(requestId) !== expected)
                bad.push(`${event}: ${String(tryGet(requestId))}`);
            });
          }
          setTimeout(() => res.end('ok'), Math.random() * 5);
        },
        { requestId: { key: requestId } },
      ),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const response = await request(`http://127.0.0.1:${port}/`, {
            headers: { 'x-request-id': `r-${i}` },
          });
          await response.body.text();
        }),
      );
      await sleep(50);
      expect(bad).toEqual([]);
      expect(finished).toBe(200);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
