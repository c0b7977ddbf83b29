import { type LogFieldOptions, logFields } from './fields.js';

/**
 * A pino `mixin`: every log line gets the context's log fields (see {@link logFields}).
 * Fields the call itself passes win over the mixin's (pino's own rule).
 *
 * @example
 * const logger = pino({ mixin: pinoMixin() });
 * logger.info('order placed'); // {"request_id":"r1","tenant":"acme","scope":"http",...}
 */
export function pinoMixin(options: LogFieldOptions = {}): () => Record<string, unknown> {
  return () => logFields(undefined, options);
}
