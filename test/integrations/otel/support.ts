/** A real OpenTelemetry SDK set up on dcontext: DContextManager, a tracer, spans kept in memory. */
import { context, propagation, type Span, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  DContextManager,
  DContextPropagator,
  type DContextPropagatorOptions,
} from '../../../src/integrations/otel/index.js';

/** Installs the global context manager, tracer provider and (optionally) propagator. */
export function setUpOtel(propagatorOptions?: DContextPropagatorOptions) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new DContextManager();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  if (propagatorOptions !== undefined) {
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [
          new W3CTraceContextPropagator(),
          new W3CBaggagePropagator(),
          new DContextPropagator(propagatorOptions),
        ],
      }),
    );
  }
  return { exporter, provider, manager, tracer: trace.getTracer('dcontext-test') };
}

/** The finished span named `name` (exactly one). */
export function finished(exporter: InMemorySpanExporter, name: string): ReadableSpan {
  const spans = exporter.getFinishedSpans().filter((s) => s.name === name);
  if (spans.length !== 1) throw new Error(`expected one span '${name}', found ${spans.length}`);
  return spans[0]!;
}

/** The parent span id of a finished span (undefined for a root span). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** The ids of a live span. */
export function idsOf(span: Span): { traceId: string; spanId: string } {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
