/** How a failing Redis call is reported. */
import { DContextError, isDContextError } from '../../index.js';

/** Any failure of the client as `STORE_UNAVAILABLE` (DContextErrors pass through unchanged). */
export function unavailable(error: unknown, what: string): DContextError {
  if (isDContextError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DContextError(
    'STORE_UNAVAILABLE',
    `Redis did not complete ${what}: ${detail}; retry when Redis is reachable (a write whose reply was lost may have been applied: read the context again)`,
    undefined,
    { cause: error },
  );
}
