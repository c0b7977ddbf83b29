/**
 * `dcontext/log`: the request context in every log line.
 *
 * - {@link logFields}: the context as a plain object of log fields, for any logger.
 * - {@link pinoMixin}: `pino({ mixin: pinoMixin() })`.
 * - {@link winstonFormat}: `format.combine(winstonFormat(), format.json())`.
 *
 * Keys opt in at registration: `metadata: { log: true }` (logged under the key's name) or
 * `metadata: { log: 'field_name' }`; `metadata: { sensitive: true }` keeps a key out of every log.
 * Neither pino nor winston is imported: the functions return what those loggers call.
 */
export { type LogFieldOptions, logFields } from './fields.js';
export { pinoMixin } from './pino.js';
export { type WinstonFormat, winstonFormat } from './winston.js';
