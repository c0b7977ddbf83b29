/**
 * What loading `dcontext/otel` installs, once per thread: the active span's ids for
 * `dcontext/log`, and the bridge that carries the active span into worker threads. Both are
 * idempotent and cheap, so the module, the manager and the propagator all call it.
 */
import { installTraceFieldsProvider } from '../../internal/trace-fields.js';
import { installForeignBridge } from '../../store/foreign.js';
import { spanContextBridge } from './thread-bridge.js';
import { activeTraceFields } from './trace-fields.js';

let installed = false;

/** Installs the trace-fields provider and the worker-thread bridge (once). */
export function installOtelHooks(): void {
  if (installed) return;
  installed = true;
  installTraceFieldsProvider(activeTraceFields);
  installForeignBridge(spanContextBridge);
}
