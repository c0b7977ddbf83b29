import { type LogFieldOptions, logFields, logOptions } from './fields.js';

/** What winston asks of a format: `transform(info)` returning the (changed) info. */
export interface WinstonFormat {
  transform<I extends object>(info: I): I;
}

/**
 * A winston format that adds the context's log fields (see {@link logFields}) to every entry;
 * fields the entry already has win. Put it before the output format.
 *
 * @example
 * const logger = winston.createLogger({
 *   format: winston.format.combine(winstonFormat(), winston.format.json()),
 *   transports: [new winston.transports.Console()],
 * });
 */
export function winstonFormat(options?: LogFieldOptions | null): WinstonFormat {
  const checked = logOptions(options, 'winstonFormat');
  return {
    transform<I extends object>(info: I): I {
      const fields = logFields(undefined, checked);
      const entry = info as Record<string, unknown>;
      for (const field in fields) if (!Object.hasOwn(entry, field)) entry[field] = fields[field];
      return info;
    },
  };
}
