/**
 * How the active span crosses into worker threads (`spawnWithContext`, `postWithContext`,
 * `runWithContext`): the frame's OpenTelemetry context travels as its span context in plain
 * data, `[traceId, spanId, traceFlags, traceState]`, and becomes a remote parent on the other
 * side, where `DContextManager` reads it as the active context. Baggage and other context
 * values of OpenTelemetry stay in their thread.
 */
import {
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import type { ForeignBridge } from '../../store/foreign.js';
import { contextOf } from './active-context.js';

/** Bounds a received trace state (W3C allows 32 members of 256 bytes). */
const MAX_TRACE_STATE = 8192;

/** The bridge `dcontext/otel` installs on the runtime (see `installOtelHooks`). */
export const spanContextBridge: ForeignBridge = {
  toCarrier(foreign: unknown): unknown {
    const context = contextOf(foreign);
    const span = context === undefined ? undefined : trace.getSpanContext(context);
    if (span === undefined || !isSpanContextValid(span)) return undefined;
    return [span.traceId, span.spanId, span.traceFlags, span.traceState?.serialize() ?? ''];
  },
  fromCarrier(carrier: unknown): unknown {
    if (!Array.isArray(carrier) || carrier.length !== 4) return null;
    const [traceId, spanId, traceFlags, traceState] = carrier as unknown[];
    if (
      typeof traceId !== 'string' ||
      typeof spanId !== 'string' ||
      typeof traceFlags !== 'number' ||
      !Number.isInteger(traceFlags) ||
      traceFlags < 0 ||
      traceFlags > 0xff ||
      typeof traceState !== 'string' ||
      traceState.length > MAX_TRACE_STATE
    ) {
      return null;
    }
    const span: SpanContext = { traceId, spanId, traceFlags, isRemote: true };
    if (traceState !== '') span.traceState = createTraceState(traceState);
    return isSpanContextValid(span) ? trace.setSpanContext(ROOT_CONTEXT, span) : null;
  },
};
