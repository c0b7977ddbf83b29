/**
 * `dcontext/otel`: one context for dcontext and OpenTelemetry.
 *
 * - {@link DContextManager}: OpenTelemetry's context manager on dcontext's store (one
 *   AsyncLocalStorage for both; spans parent through dcontext scopes and worker hops).
 * - {@link DContextPropagator}: the dcontext header, and keys bridged to W3C `baggage`, as a
 *   `TextMapPropagator` that composes with OpenTelemetry's W3C propagators.
 * - {@link traceFields}: `{ trace_id, span_id }` of the active span, for logs.
 *
 * Imports `@opentelemetry/api` only. Loading it installs the active span's ids for
 * `dcontext/log` and the bridge that carries the active span into worker threads.
 */
import { installOtelHooks } from './hooks.js';

export { BAGGAGE_LIMITS } from './baggage.js';
export { DContextManager } from './context-manager.js';
export { DContextPropagator } from './propagator.js';
export type { DContextPropagatorOptions, KeyList } from './propagator-options.js';
export { type TraceFields, traceFields } from './trace-fields.js';

installOtelHooks();
