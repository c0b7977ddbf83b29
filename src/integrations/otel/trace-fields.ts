/** The active span's ids, for log lines (`dcontext/log` reads them through the provider hook). */
import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** `trace_id` and `span_id` of a span, as log fields. */
export interface TraceFields {
  readonly trace_id: string;
  readonly span_id: string;
}

/** The fields of the active span, or undefined when none is active (the provider `dcontext/log` calls). */
export function activeTraceFields(): TraceFields | undefined {
  const span = trace.getSpanContext(context.active());
  return span !== undefined && isSpanContextValid(span)
    ? { trace_id: span.traceId, span_id: span.spanId }
    : undefined;
}

/**
 * `{ trace_id, span_id }` of the active span (read through OpenTelemetry's global context, so
 * with any context manager); an empty object when no valid span is active. `logFields()` and
 * `pinoMixin()` of `dcontext/log` add the same fields by themselves once `dcontext/otel` is
 * loaded.
 *
 * @example
 * logger.info({ ...traceFields(), orderId }, 'order placed');
 */
export function traceFields(): TraceFields | Record<string, never> {
  return activeTraceFields() ?? {};
}
