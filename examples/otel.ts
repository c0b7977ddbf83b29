// OpenTelemetry and dcontext as one context: "orders" calls "inventory" over node:http, both
// OpenTelemetry-instrumented the way @opentelemetry/instrumentation-http does it (extract, then
// handle the request inside context.with; inject into outgoing headers). The spans parent across
// the hop, the dcontext values and scope chain cross in x-dcontext, the tenant also in W3C
// baggage, and every log line carries trace_id/span_id.
// Run: node --import tsx examples/otel.ts
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { get, initialize, RegistryBuilder, scope, scopeChain, set } from 'dcontext';
import { logFields } from 'dcontext/log';
import { DContextManager, DContextPropagator } from 'dcontext/otel';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id', { metadata: { log: true } });
const tenant = builder.register<string>('tenant', {
  metadata: { log: true, baggage: 'tenant' },
  validate: (value) => typeof value === 'string' && /^[a-z0-9-]{1,40}$/.test(value),
});
initialize(builder);

// The setup: three lines, then OpenTelemetry and dcontext share one AsyncLocalStorage.
context.setGlobalContextManager(new DContextManager());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [
      new W3CTraceContextPropagator(),
      new W3CBaggagePropagator(),
      // Both services trust each other: they take every key. An edge facing the internet would
      // keep the default, accept: 'none'.
      new DContextPropagator({ accept: 'all' }),
    ],
  }),
);
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
const tracer = trace.getTracer('example');

/** A server whose handler runs in the extracted context, in a span, as instrumentation does. */
function instrumented(name: string, handler: () => Promise<unknown>): http.Server {
  return http.createServer((req, res) => {
    const extracted = propagation.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    context.with(extracted, () =>
      tracer.startActiveSpan(name, async (span) => {
        const body = await scope(name, handler);
        res.end(JSON.stringify(body));
        span.end();
      }),
    );
  });
}

/** A GET carrying the active context (trace, baggage, dcontext), as an instrumented client sends it. */
async function get_(url: string): Promise<unknown> {
  return tracer.startActiveSpan('GET', async (span) => {
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers, defaultTextMapSetter);
    const req = http.request(url, { headers });
    req.end();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let text = '';
    for await (const chunk of res) text += chunk;
    span.end();
    return JSON.parse(text);
  });
}

async function start(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

const inventory = instrumented('inventory', async () => {
  console.log('inventory log line', logFields());
  return { chain: scopeChain(), requestId: get(requestId), tenant: get(tenant) };
});
const inventoryUrl = await start(inventory);

const orders = instrumented('orders', async () => {
  console.log('orders log line   ', logFields());
  return get_(inventoryUrl);
});
const ordersUrl = await start(orders);

// The caller: a request scope and a root span.
const fromInventory = await tracer.startActiveSpan('checkout', (span) =>
  scope('client', async () => {
    set(requestId, 'req-42');
    set(tenant, 'acme');
    const result = await get_(ordersUrl);
    span.end();
    return result;
  }),
);
assert.deepEqual(fromInventory, {
  chain: ['client', 'orders', 'inventory'],
  requestId: 'req-42',
  tenant: 'acme',
});

// One trace, each span the child of the one before it.
const spans = exporter.getFinishedSpans();
const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
const inventorySpan = spans.find((s) => s.name === 'inventory')!;
const path: string[] = [];
for (let s = byId.get(inventorySpan.spanContext().spanId); s; ) {
  path.unshift(s.name);
  s = s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined;
}
console.log('span path:', path.join(' > '));
assert.deepEqual(path, ['checkout', 'GET', 'orders', 'GET', 'inventory']);
assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);

orders.close();
inventory.close();
