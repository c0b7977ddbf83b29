import { type LogFieldOptions, logFields, logOptions } from './fields.js';

/**
 * A pino `mixin`: every log line gets the context's log fields (see {@link logFields}).
 * Fields the call itself passes win over the mixin's (pino's own rule).
 *
 * @example
 * const logger = pino({ mixin: pinoMixin() });
 * logger.info('order placed'); // {"request_id":"r1","tenant":"acme","scope":"http",...}
 */
export function pinoMixin(options?: LogFieldOptions | null): () => Record<string, unknown> {
  const checked = logOptions(options, 'pinoMixin');
  return () => logFields(undefined, checked);
}
