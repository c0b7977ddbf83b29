/**
 * Hostile inbound headers against each ingress: random strings, base64url of random bytes,
 * mutated valid headers, oversize values, forged headers carrying keys not accepted, with
 * random request ids and tenants. Never a crash, never a partial context (all the accepted
 * inbound values or none), 400 only in reject mode. Driven through each middleware with a
 * minimal request and response for speed, then a few hundred through real servers.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  deserialize,
  initialize,
  serializeToString,
  syncCtx,
  tryGet,
} from '../../../src/index.js';
import {
  expressContext,
  type FastifyInstanceLike,
  fastifyContext,
  httpContext,
  type IngressOptions,
} from '../../../src/integrations/http/index.js';
import { builder, requestId, tenant, user } from './support/keys.js';
import { FRAMEWORKS, type Framework, type Running, startServer } from './support/servers.js';

initialize(builder);

/** What a request's handler saw of its inbound context; undefined when it did not run. */
interface Outcome {
  ran: boolean;
  status: number;
  rid: string | undefined;
  tenant: string | undefined;
  user: string | undefined;
}

interface Headers {
  'x-dcontext'?: string;
  'x-request-id'?: string;
  'x-tenant'?: string;
}

const GENERATED = 'generated-id';

const options = (reject: boolean, errors: DContextError[]): IngressOptions => ({
  accept: [user],
  headers: { 'x-tenant': tenant },
  requestId: { key: requestId, generate: () => GENERATED },
  onInvalid: reject ? 'reject' : 'ignore',
  onError: (error) => {
    errors.push(error);
  },
});

// --- the expected outcome, from the rules the docs state ------------------------------------
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const TENANT = /^[a-z0-9-]{1,32}$/;

function expected(headers: Headers): { valid: boolean; user?: string } {
  const header = headers['x-dcontext'];
  let userValue: string | undefined;
  if (header !== undefined && header !== '') {
    if (header.includes(',')) return { valid: false };
    try {
      const received = deserialize(header, {
        accept: [user],
        onDecodeError: 'throw',
        onDroppedEntry: () => {},
      });
      userValue = received.get(user);
    } catch {
      return { valid: false };
    }
  }
  const rid = headers['x-request-id'];
  if (rid !== undefined && !REQUEST_ID.test(rid)) return { valid: false };
  const t = headers['x-tenant'];
  // An empty plain header is no value (absent), not an invalid one.
  if (t !== undefined && t !== '' && !TENANT.test(t)) return { valid: false };
  return userValue === undefined ? { valid: true } : { valid: true, user: userValue };
}

function check(headers: Headers, reject: boolean, outcome: Outcome): void {
  const { valid, user: expectedUser } = expected(headers);
  if (valid) {
    expect(outcome).toEqual({
      ran: true,
      status: 200,
      rid: headers['x-request-id'] ?? GENERATED,
      tenant: headers['x-tenant'] || undefined,
      user: expectedUser,
    });
  } else if (reject) {
    expect(outcome).toMatchObject({ ran: false, status: 400 });
  } else {
    expect(outcome).toEqual({
      ran: true,
      status: 200,
      rid: GENERATED,
      tenant: undefined,
      user: undefined,
    });
  }
}

// --- generated headers ----------------------------------------------------------------------
const valid = (values: { user?: string; tenant?: string; extra?: string }): string =>
  syncCtx.scope('upstream', () => {
    if (values.user !== undefined) syncCtx.set(user, values.user);
    if (values.tenant !== undefined) syncCtx.set(tenant, values.tenant);
    if (values.extra !== undefined) syncCtx.set(requestId, values.extra);
    return serializeToString();
  });

const mutate = (header: string, at: number, insert: string, cut: number): string => {
  const i = at % (header.length + 1);
  return header.slice(0, i) + insert + header.slice(i + cut);
};

const contextHeader = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc
    .record(
      { user: fc.string({ maxLength: 20 }), tenant: fc.constantFrom('acme', 'victim-corp') },
      { requiredKeys: [] },
    )
    .map((values) => valid(values)),
  // Forged: keys this edge does not accept (tenant, request_id) next to an accepted one.
  fc
    .record({
      user: fc.string({ maxLength: 20 }),
      tenant: fc.constantFrom('acme', 'victim-corp'),
      extra: fc.string(),
    })
    .map((values) => valid(values)),
  fc
    .tuple(
      fc.record({ user: fc.string({ maxLength: 20 }) }).map((values) => valid(values)),
      fc.nat(),
      fc.string({ maxLength: 4 }),
      fc.nat({ max: 3 }),
    )
    .map(([header, at, insert, cut]) => mutate(header, at, insert, cut)),
  fc.nat({ max: 3 }).map((n) => 'A'.repeat(70_000 + n)),
  fc
    .tuple(fc.constant(valid({ user: 'a' })), fc.constant(valid({ user: 'b' })))
    .map(([a, b]) => `${a}, ${b}`),
);

const requestIdHeader = fc.oneof(
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 140 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const tenantHeader = fc.oneof(
  fc.constantFrom('acme', 'globex', 't-1'),
  fc.string({ maxLength: 40 }),
);

const headersArb = fc.record(
  { 'x-dcontext': contextHeader, 'x-request-id': requestIdHeader, 'x-tenant': tenantHeader },
  { requiredKeys: [] },
) as fc.Arbitrary<Headers>;

// --- each middleware with a minimal request and response -------------------------------------
function fakeRequest(headers: Headers): IncomingMessage {
  return Object.assign(new EventEmitter(), {
    headers: { ...headers },
    method: 'GET',
    url: '/',
  }) as unknown as IncomingMessage;
}

function fakeResponse(outcome: Outcome): ServerResponse {
  const headers = new Map<string, unknown>();
  return Object.assign(new EventEmitter(), {
    headersSent: false,
    statusCode: 200,
    setHeader(name: string, value: unknown) {
      headers.set(name, value);
    },
    end(this: { statusCode: number }) {
      outcome.status = this.statusCode;
    },
  }) as unknown as ServerResponse;
}

function observe(outcome: Outcome): void {
  outcome.ran = true;
  outcome.rid = tryGet(requestId);
  outcome.tenant = tryGet(tenant);
  outcome.user = tryGet(user);
}

type Drive = (headers: Headers, ingress: IngressOptions) => Outcome;

const fresh = (): Outcome => ({
  ran: false,
  status: 200,
  rid: undefined,
  tenant: undefined,
  user: undefined,
});

const drivers: Record<Framework, Drive> = {
  'node:http': (headers, ingress) => {
    const outcome = fresh();
    httpContext(() => observe(outcome), ingress)(fakeRequest(headers), fakeResponse(outcome));
    return outcome;
  },
  express: (headers, ingress) => {
    const outcome = fresh();
    expressContext(ingress)(fakeRequest(headers), fakeResponse(outcome), () => observe(outcome));
    return outcome;
  },
  fastify: (headers, ingress) => {
    const outcome = fresh();
    let hook: Parameters<FastifyInstanceLike['addHook']>[1] | undefined;
    fastifyContext({ addHook: (_name, h) => (hook = h) }, ingress, (error) => {
      if (error) throw error;
    });
    const reply = {
      raw: fakeResponse(outcome),
      code(status: number) {
        outcome.status = status;
        return reply;
      },
      header: () => reply,
      send: () => reply,
    };
    hook!({ raw: fakeRequest(headers) }, reply, () => observe(outcome));
    return outcome;
  },
};

describe.each(FRAMEWORKS)('%s ingress under hostile headers', (framework) => {
  it('never crashes, never yields a partial context, answers 400 only in reject mode (10,000 cases)', () => {
    fc.assert(
      fc.property(headersArb, fc.boolean(), (headers, reject) => {
        const errors: DContextError[] = [];
        const outcome = drivers[framework](headers, options(reject, errors));
        check(headers, reject, outcome);
        for (const error of errors) expect(error.name).toBe('DContextError');
      }),
      { numRuns: 10_000 },
    );
  });
});

// --- through real servers ---------------------------------------------------------------------
/** Header values a real client can send: visible ASCII, inner spaces, as Node trims the rest. */
const sendable = (value: string): string => value.replace(/[^\x20-\x7e]/g, '').trim();

describe.each(FRAMEWORKS)('%s server under hostile headers', (framework) => {
  const servers: Partial<Record<'ignore' | 'reject', Running>> = {};
  beforeAll(async () => {
    for (const mode of ['ignore', 'reject'] as const) {
      servers[mode] = await startServer(
        framework,
        async () => ({ rid: tryGet(requestId), tenant: tryGet(tenant), user: tryGet(user) }),
        options(mode === 'reject', []),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((server) => server.close()));
  });

  it('behaves as the middleware does for 300 generated requests', async () => {
    const cases = fc.sample(fc.tuple(headersArb, fc.boolean()), { numRuns: 300, seed: 11 });
    for (const [generated, reject] of cases) {
      const headers: Headers = {};
      for (const [name, value] of Object.entries(generated) as [keyof Headers, string][]) {
        const clean = sendable(value);
        if (clean !== '') headers[name] = clean;
      }
      const response = await request(`${servers[reject ? 'reject' : 'ignore']!.url}/`, {
        headers: { ...headers },
      });
      // Node itself refuses headers over 16 KiB (431) before any middleware sees them.
      if (Object.values(headers).some((value) => value.length > 16_000)) {
        expect(response.statusCode).toBe(431);
        await response.body.dump();
        continue;
      }
      const body = (await response.body.json()) as Record<string, string | undefined>;
      const outcome: Outcome =
        response.statusCode === 200
          ? { ran: true, status: 200, rid: body.rid, tenant: body.tenant, user: body.user }
          : {
              ran: false,
              status: response.statusCode,
              rid: undefined,
              tenant: undefined,
              user: undefined,
            };
      check(headers, reject, outcome);
      if (!outcome.ran)
        expect(body).toEqual({ error: expect.any(String), message: expect.any(String) });
    }
  });
});
