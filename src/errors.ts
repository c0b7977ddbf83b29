/**
 * Stable error codes. A code never changes meaning once released; match on `error.code`,
 * never on the message text.
 */
export type DContextErrorCode =
  | 'NOT_INITIALIZED'
  | 'REGISTRY_FROZEN'
  | 'ALREADY_REGISTERED'
  | 'NOT_REGISTERED'
  | 'TYPE_MISMATCH'
  | 'NO_ACTIVE_SCOPE'
  | 'SCOPE_ORDER'
  | 'ASYNC_IN_SYNC_SCOPE'
  | 'INCOMPATIBLE_RUNTIME';

/**
 * The one error class dcontext throws. `code` is stable; `key` names the context key involved,
 * where one applies.
 *
 * @example
 * try { set('tenant', 42) } catch (e) { if (e instanceof DContextError && e.code === 'TYPE_MISMATCH') … }
 */
export class DContextError extends Error {
  override readonly name = 'DContextError';
  readonly code: DContextErrorCode;
  readonly key: string | undefined;

  constructor(code: DContextErrorCode, message: string, key?: string) {
    super(message);
    this.code = code;
    this.key = key;
  }
}

/** True when `error` is a {@link DContextError}, optionally with the given code. */
export function isDContextError(error: unknown, code?: DContextErrorCode): error is DContextError {
  return error instanceof DContextError && (code === undefined || error.code === code);
}
