/** How a failing Redis call is reported. */
import { DContextError, isDContextError } from '../../index.js';

/**
 * Any failure of the client as `STORE_UNAVAILABLE` (DContextErrors pass through unchanged), but a
 * `WRONGTYPE` reply (a foreign value under the store's keys) as `DECODE_FAILED`.
 */
export function unavailable(error: unknown, what: string): DContextError {
  if (isDContextError(error)) return error;
  if (error instanceof Error && error.message.startsWith('WRONGTYPE')) {
    // Redis answered: a key under the store's prefix holds something dcontext did not write.
    return new DContextError(
      'DECODE_FAILED',
      `${what}: a Redis key of this context holds the wrong type of value (not written by dcontext/shared); delete it`,
      undefined,
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new DContextError(
    'STORE_UNAVAILABLE',
    `Redis did not complete ${what}: ${detail}; retry when Redis is reachable (a write whose reply was lost may have been applied: read the context again)`,
    undefined,
    { cause: error },
  );
}
