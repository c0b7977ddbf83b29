/**
 * Spans of a real OpenTelemetry SDK (sdk-trace-base, DContextManager as the global context
 * manager) parent right through dcontext scopes and awaits; `traceFields` and `dcontext/log` see
 * the active span.
 */
import { EventEmitter } from 'node:events';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  bind,
  bindEmitter,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  scopeChain,
  serializeToString,
  set,
  snapshot,
  withContext,
} from '../../../src/index.js';
import { logFields, pinoMixin } from '../../../src/integrations/log/index.js';
import { traceFields } from '../../../src/integrations/otel/index.js';
import { finished, idsOf, parentOf, setUpOtel, sleep } from './support.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id', { metadata: { log: true } });
initialize(builder);

const { exporter, tracer } = setUpOtel();

describe('spans through dcontext scopes', () => {
  it('a span started inside scope() parents to the span active around it, across awaits', async () => {
    exporter.reset();
    await tracer.startActiveSpan('request', async (request) => {
      await scope('handler', async () => {
        await sleep(2);
        await scope('db', async () => {
          await new Promise((resolve) => setImmediate(resolve));
          tracer.startSpan('query').end();
        });
      });
      request.end();
    });
    const request = finished(exporter, 'request');
    const query = finished(exporter, 'query');
    expect(parentOf(query)).toBe(request.spanContext().spanId);
    expect(query.spanContext().traceId).toBe(request.spanContext().traceId);
  });

  it('context.with(ctx, () => scope(…)) keeps ctx inside the scope, and dcontext values inside the span', async () => {
    const span = tracer.startSpan('outer');
    const seen = await context.with(trace.setSpan(context.active(), span), () =>
      scope('handler', async () => {
        set(requestId, 'r-1');
        await sleep(1);
        const active = trace.getActiveSpan();
        return tracer.startActiveSpan('inner', (inner) => {
          inner.end();
          return {
            active,
            rid: get(requestId),
            chain: scopeChain(),
            innerParent: (inner as unknown as { parentSpanContext?: { spanId: string } })
              .parentSpanContext?.spanId,
          };
        });
      }),
    );
    span.end();
    expect(seen.active).toBe(span);
    expect(seen).toMatchObject({ rid: 'r-1', chain: ['handler'] });
    expect(seen.innerParent).toBe(span.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('the span ends with its scope: code after the scope is back in the outer span', async () => {
    await tracer.startActiveSpan('outer', async (outer) => {
      await tracer.startActiveSpan('inner', (inner) =>
        scope('inner', async () => {
          await sleep(1);
          inner.end();
        }),
      );
      expect(trace.getActiveSpan()).toBe(outer);
      outer.end();
    });
  });

  it('a snapshot, bind() and bindEmitter() carry the span along with the values', async () => {
    exporter.reset();
    const emitter = bindEmitter(new EventEmitter());
    const later = await tracer.startActiveSpan('captured', (span) =>
      scope('job', () => {
        set(requestId, 'r-snap');
        const snap = snapshot();
        const bound = bind(() => [trace.getActiveSpan(), get(requestId)]);
        const fromEmitter = new Promise((resolve) =>
          emitter.on('go', () => resolve([trace.getActiveSpan(), get(requestId)])),
        );
        span.end();
        return { snap, bound, fromEmitter, span };
      }),
    );
    expect(trace.getActiveSpan()).toBeUndefined();
    withContext(later.snap, () => tracer.startSpan('later').end());
    expect(parentOf(finished(exporter, 'later'))).toBe(later.span.spanContext().spanId);
    expect(later.bound()).toEqual([later.span, 'r-snap']);
    context.with(ROOT_CONTEXT, () => emitter.emit('go'));
    expect(await later.fromEmitter).toEqual([later.span, 'r-snap']);
  });

  it('a context from the wire, entered inside a span, stays in that span; one captured in-process restores its own', async () => {
    const fromWire = deserialize(scope('upstream', () => serializeToString()));
    const capturedOutside = scope('idle', () => snapshot());
    await tracer.startActiveSpan('server', async (server) => {
      await withContext(fromWire, async () => {
        await sleep(1);
        expect(trace.getActiveSpan()).toBe(server);
        expect(scopeChain()).toEqual(['upstream']);
      });
      expect(withContext(capturedOutside, () => trace.getActiveSpan())).toBeUndefined();
      expect(withContext(Snapshot.empty(), () => trace.getActiveSpan())).toBe(server);
      server.end();
    });
  });

  it('200 concurrent requests with random delays: every child span parents to its own request, zero mismatches', async () => {
    exporter.reset();
    const requests = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        tracer.startActiveSpan(`request-${i}`, (span) =>
          scope('http', async () => {
            set(requestId, `r-${i}`);
            await sleep(Math.random() * 10);
            const children = await Promise.all(
              [0, 1, 2].map((n) =>
                scope(`step-${n}`, async () => {
                  await sleep(Math.random() * 5);
                  const child = tracer.startSpan(`child-${i}-${n}`);
                  const rid = get(requestId);
                  await sleep(Math.random() * 3);
                  child.end();
                  return rid;
                }),
              ),
            );
            span.end();
            return { i, span: idsOf(span), rids: children };
          }),
        ),
      ),
    );
    let mismatches = 0;
    for (const { i, span, rids } of requests) {
      for (let n = 0; n < 3; n++) {
        const child = finished(exporter, `child-${i}-${n}`);
        if (parentOf(child) !== span.spanId || child.spanContext().traceId !== span.traceId) {
          mismatches++;
        }
        if (rids[n] !== `r-${i}`) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });
});

describe('trace ids in logs', () => {
  it('traceFields() is empty outside a span and holds the active span ids inside', () => {
    expect(traceFields()).toEqual({});
    tracer.startActiveSpan('logged', (span) => {
      expect(traceFields()).toEqual({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
      });
      span.end();
    });
  });

  it('logFields() and pinoMixin() of dcontext/log add trace_id and span_id once dcontext/otel is loaded', async () => {
    const mixin = pinoMixin();
    await tracer.startActiveSpan('logged', (span) =>
      scope('handler', async () => {
        set(requestId, 'r-log');
        await sleep(1);
        const ids = { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId };
        expect(logFields()).toEqual({ request_id: 'r-log', scope: 'handler', ...ids });
        expect(mixin()).toMatchObject(ids);
        expect(logFields(undefined, { traceFields: false })).not.toHaveProperty('trace_id');
        span.end();
      }),
    );
    expect(logFields()).not.toHaveProperty('trace_id');
  });
});
