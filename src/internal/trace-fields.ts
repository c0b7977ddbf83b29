/**
 * Where `dcontext/log` finds the active span's ids: a function an OpenTelemetry bridge
 * (`dcontext/otel`) installs on `globalThis` under this `Symbol.for` key, so that neither
 * integration imports the other and `dcontext/log` never loads OpenTelemetry.
 */

/** The `globalThis` key of the {@link TraceFieldsProvider}. */
export const TRACE_FIELDS_PROVIDER = Symbol.for('dcontext.log.traceFields');

/** The active span's ids, or undefined when no span is active. */
export type TraceFieldsProvider = () => { trace_id: string; span_id: string } | undefined;

type GlobalWithProvider = typeof globalThis & { [TRACE_FIELDS_PROVIDER]?: TraceFieldsProvider };

/** The installed provider, or undefined. */
export function traceFieldsProvider(): TraceFieldsProvider | undefined {
  return (globalThis as GlobalWithProvider)[TRACE_FIELDS_PROVIDER];
}

/** Installs `provider` (replacing any other: the last bridge loaded answers). */
export function installTraceFieldsProvider(provider: TraceFieldsProvider): void {
  (globalThis as GlobalWithProvider)[TRACE_FIELDS_PROVIDER] = provider;
}
