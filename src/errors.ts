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
  | 'SCOPE_LEAKED'
  | 'ASYNC_IN_SYNC_SCOPE'
  | 'INVALID_ARGUMENT'
  | 'INCOMPATIBLE_RUNTIME'
  | 'CONTEXT_TOO_LARGE'
  | 'DECODE_FAILED'
  | 'ENCODE_FAILED'
  | 'NOT_CLONEABLE'
  | 'NOT_ACCEPTED'
  | 'BAD_SIGNATURE'
  | 'TASK_NOT_WRAPPED'
  /**
   * A shared context (`dcontext/shared`) changed concurrently and the conflict policy refused the
   * change (`onConflict: 'fail'`), or the compare-and-set still lost after every retry; or a
   * binding exists already where only one may (a diagnostics channel bound twice).
   */
  | 'CONFLICT'
  /** A shared context store (Redis) could not be reached or did not answer; nothing was written. */
  | 'STORE_UNAVAILABLE'
  /** A bounded queue (the write-behind cache's) is full and its policy is to fail, not to wait. */
  | 'QUEUE_FULL'
  /** An operation on something already closed (a `ContextCache` after `close()`). */
  | 'CLOSED'
  /**
   * The runtime lacks a feature dcontext needs for this call (an API, a hook, a worker feature);
   * the message names it. Thrown instead of losing context silently.
   */
  | 'UNSUPPORTED_RUNTIME';

// Set on every DContextError's prototype; `Symbol.for`, so the ESM and the CommonJS build (each
// with its own class when both are loaded) recognise each other's errors with `instanceof`.
const BRAND = Symbol.for('dcontext.error');

/**
 * The one error class dcontext throws. `code` is stable; `key` names the context key involved,
 * where one applies. A failed operation changes no context.
 *
 * `instanceof DContextError` holds whichever copy of dcontext threw it (the ESM and the CommonJS
 * build, or an error rebuilt after crossing a thread).
 *
 * @example
 * try { set('tenant', 42) } catch (e) { if (isDContextError(e, 'TYPE_MISMATCH')) … }
 */
export class DContextError extends Error {
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

  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true
    );
  }
}
Object.defineProperty(DContextError.prototype, BRAND, { value: true });

/** True when `error` is a {@link DContextError}, optionally with the given code. */
export function isDContextError(error: unknown, code?: DContextErrorCode): error is DContextError {
  return error instanceof DContextError && (code === undefined || error.code === code);
}

/**
 * What went wrong in `cause`, for a message: its `message` when it is an `Error`, else its text.
 * The one way dcontext quotes an error it caught (a codec's, a migration's, a worker's).
 */
export function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return String(cause);
  } catch {
    return Object.prototype.toString.call(cause); // an object whose toString throws
  }
}
