import { shared } from './internal/runtime.js';

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
  | 'INVALID_ARGUMENT'
  | 'INCOMPATIBLE_RUNTIME'
  | 'CONTEXT_TOO_LARGE'
  | 'DECODE_FAILED'
  | 'ENCODE_FAILED'
  | 'NOT_CLONEABLE'
  | 'TASK_NOT_WRAPPED';

class DContextErrorImpl extends Error {
  override readonly name = 'DContextError';
  /** What went wrong, as a stable identifier. */
  readonly code: DContextErrorCode;
  /** The context key involved, where one applies. */
  readonly key: string | undefined;

  constructor(code: DContextErrorCode, message: string, key?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.key = key;
  }
}

/**
 * The one error class dcontext throws. `code` is stable; `key` names the context key involved,
 * where one applies. A failed operation changes no context.
 *
 * The class is shared by the ESM and the CommonJS build, so `instanceof` holds whichever build
 * threw it.
 *
 * @example
 * try { set('tenant', 42) } catch (e) { if (isDContextError(e, 'TYPE_MISMATCH')) … }
 */
export const DContextError: typeof DContextErrorImpl = shared('DContextError', DContextErrorImpl);
export type DContextError = DContextErrorImpl;

/** True when `error` is a {@link DContextError}, optionally with the given code. */
export function isDContextError(error: unknown, code?: DContextErrorCode): error is DContextError {
  return error instanceof DContextError && (code === undefined || error.code === code);
}
