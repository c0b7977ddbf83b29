/**
 * traceparent, baggage and the dcontext header round-trip through real node:http hops: a client
 * injects with the composite propagator (W3C trace context, W3C baggage, DContextPropagator);
 * each server extracts and handles the request inside `context.with`, as OpenTelemetry's http
 * instrumentation does, and calls the next server the same way.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  serializeToString,
  set,
} from '../../../src/index.js';
import { httpContext } from '../../../src/integrations/http/index.js';
import { finished, parentOf, setUpOtel, sleep } from './support.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', {
  metadata: { baggage: 'tenant' },
  validate: (v) => typeof v === 'string' && /^[a-z0-9-]{1,40}$/.test(v),
});
const hops = builder.register<number>('hops');
initialize(builder);

const errors: DContextError[] = [];
const { exporter, tracer } = setUpOtel({ accept: 'all', onError: (e) => errors.push(e) });

/** What a server saw, answered as JSON. */
interface Seen {
  rid?: string;
  tenant?: string;
  hops?: number;
  chain: string[];
  traceId?: string;
  parentSpanId?: string;
  serverSpanId?: string;
  otelBaggage?: string;
  downstream?: Seen;
}

/** Sends a GET with the active context injected (as an instrumented client does). */
async function call(port: number, extraHeaders: Record<string, string> = {}): Promise<Seen> {
  const span = tracer.startSpan('client');
  const headers: Record<string, string> = { ...extraHeaders };
  propagation.inject(trace.setSpan(context.active(), span), headers, defaultTextMapSetter);
  try {
    const req = http.request({ host: '127.0.0.1', port, path: '/', headers, agent });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let body = '';
    for await (const chunk of res) body += chunk;
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${body}`);
    return JSON.parse(body) as Seen;
  } finally {
    span.end();
  }
}

/** A server that handles each request in the extracted context, optionally calling `next`. */
function server(name: string, next?: () => number) {
  return http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const extracted = propagation.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    context.with(extracted, () =>
      tracer.startActiveSpan(name, async (span) => {
        try {
          const seen = await scope(name, async () => {
            await sleep(Math.random() * 8);
            set(hops, (get(hops) ?? 0) + 1);
            const downstream = next === undefined ? undefined : await call(next());
            await new Promise((resolve) => setImmediate(resolve));
            return {
              rid: get(requestId),
              tenant: get(tenant),
              hops: get(hops),
              chain: scopeChain(),
              traceId: span.spanContext().traceId,
              parentSpanId: (span as unknown as { parentSpanContext?: { spanId: string } })
                .parentSpanContext?.spanId,
              serverSpanId: span.spanContext().spanId,
              otelBaggage: propagation.getBaggage(context.active())?.getEntry('otel.key')?.value,
              downstream,
            };
          });
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(seen));
        } catch (error) {
          res.statusCode = 500;
          res.end(String(error));
        } finally {
          span.end();
        }
      }),
    );
  });
}

/** A GET with exactly `headers` (no propagator involved). */
async function rawGet(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number | undefined; seen: Seen }> {
  const req = http.request({ host: '127.0.0.1', port, path: '/', headers, agent });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode, seen: JSON.parse(body) as Seen };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const back = server('back');
const front = server('front', () => (back.address() as AddressInfo).port);
let frontPort = 0;
const backPort = () => (back.address() as AddressInfo).port;

beforeAll(async () => {
  back.listen(0, '127.0.0.1');
  front.listen(0, '127.0.0.1');
  await Promise.all([once(back, 'listening'), once(front, 'listening')]);
  frontPort = (front.address() as AddressInfo).port;
});
afterAll(() => {
  agent.destroy();
  back.close();
  front.close();
});

describe('through a real HTTP hop', () => {
  it('the span parents across two hops; dcontext values, scope chain, writes and baggage arrive', async () => {
    exporter.reset();
    const { seen, clientTrace } = await tracer.startActiveSpan('request', async (request) => {
      const ctx = propagation.setBaggage(
        context.active(),
        propagation.createBaggage({ 'otel.key': { value: 'from client' } }),
      );
      const result = await context.with(ctx, () =>
        scope('client', async () => {
          set(requestId, 'r-1');
          set(tenant, 'acme');
          return call(frontPort);
        }),
      );
      request.end();
      return { seen: result, clientTrace: request.spanContext().traceId };
    });
    expect(seen).toMatchObject({
      rid: 'r-1',
      tenant: 'acme',
      hops: 1,
      chain: ['client', 'front'],
      traceId: clientTrace,
      otelBaggage: 'from client',
      downstream: {
        rid: 'r-1',
        tenant: 'acme',
        hops: 2,
        chain: ['client', 'front', 'back'],
        traceId: clientTrace,
        otelBaggage: 'from client',
      },
    });
    // front's server span parents to the client span of the first call; back's to front's client span.
    const clients = exporter.getFinishedSpans().filter((s) => s.name === 'client');
    const frontSpan = finished(exporter, 'front');
    const backSpan = finished(exporter, 'back');
    const firstClient = clients.find((c) => c.spanContext().spanId === parentOf(frontSpan));
    const secondClient = clients.find((c) => c.spanContext().spanId === parentOf(backSpan));
    expect(firstClient).toBeDefined();
    expect(parentOf(firstClient!)).toBe(finished(exporter, 'request').spanContext().spanId);
    expect(parentOf(secondClient!)).toBe(frontSpan.spanContext().spanId);
    expect(errors).toEqual([]);
  });

  it('a bridged key travels in baggage alone when only baggage is sent', async () => {
    const headers = scope('client', () => {
      set(tenant, 'only-baggage');
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier, defaultTextMapSetter);
      return carrier;
    });
    expect(headers.baggage).toBe('tenant=only-baggage');
    const { status, seen } = await rawGet(backPort(), { baggage: headers.baggage! });
    expect(status).toBe(200);
    expect(seen).toMatchObject({ tenant: 'only-baggage', chain: ['back'] });
    expect(seen.rid).toBeUndefined();
  });

  it("dcontext/http's ingress inside an instrumented server: the handler's spans parent to the server span, the header's values are read", async () => {
    exporter.reset();
    // As @opentelemetry/instrumentation-http wraps a listener: extract, a server span, context.with.
    const listener = httpContext(
      (_req, res) => {
        const child = tracer.startSpan('handler-work');
        child.end();
        res.end(JSON.stringify({ rid: get(requestId), chain: scopeChain() }));
      },
      { name: 'ingress', accept: 'all', header: 'x-upstream' },
    );
    const instrumented = http.createServer((req, res) => {
      const span = tracer.startSpan('instrumented-server');
      res.on('finish', () => span.end());
      context.with(trace.setSpan(ROOT_CONTEXT, span), () => listener(req, res));
    });
    instrumented.listen(0, '127.0.0.1');
    await once(instrumented, 'listening');
    try {
      const header = scope('caller', () => {
        set(requestId, 'r-ingress');
        return serializeToString();
      });
      const { seen } = await rawGet((instrumented.address() as AddressInfo).port, {
        'x-upstream': header,
      });
      expect(seen).toEqual({ rid: 'r-ingress', chain: ['caller', 'ingress'] });
      await sleep(5);
      expect(parentOf(finished(exporter, 'handler-work'))).toBe(
        finished(exporter, 'instrumented-server').spanContext().spanId,
      );
    } finally {
      instrumented.close();
    }
  });

  it('300 concurrent interleaved requests with random delays: every answer carries its own values and trace, zero mismatches', async () => {
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        tracer.startActiveSpan(`r-${i}`, (span) =>
          scope('client', async () => {
            await sleep(Math.random() * 10);
            set(requestId, `r-${i}`);
            set(tenant, `t-${i % 17}`);
            const seen = await call(frontPort);
            span.end();
            return { i, seen, traceId: span.spanContext().traceId };
          }),
        ),
      ),
    );
    let mismatches = 0;
    for (const { i, seen, traceId } of results) {
      for (const hop of [seen, seen.downstream]) {
        if (hop?.rid !== `r-${i}` || hop.tenant !== `t-${i % 17}` || hop.traceId !== traceId) {
          mismatches++;
        }
      }
      if (seen.downstream?.hops !== 2) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('hostile dcontext and baggage headers never break a request: it runs with no inbound entries', async () => {
    errors.length = 0;
    const printable = fc.string({
      unit: fc.constantFrom(...'abcXYZ019-_=+/,; %"\\'),
      maxLength: 120,
    });
    await fc.assert(
      fc.asyncProperty(printable, printable, async (dcontextHeader, baggage) => {
        const { status, seen } = await rawGet(backPort(), {
          'x-dcontext': dcontextHeader,
          baggage,
        });
        expect(status).toBe(200);
        expect(seen.rid).toBeUndefined();
        expect(seen.hops).toBe(1);
        if (seen.tenant !== undefined) expect(/^[a-z0-9-]{1,40}$/.test(seen.tenant)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(errors.length).toBeGreaterThan(0);
  });
});
