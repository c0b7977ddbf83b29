/**
 * A `DContextError` thrown in one thread, kept a `DContextError` in the thread that receives it.
 * What each channel keeps of an error (measured on Node 20):
 * - structured clone (`postMessage`, so Piscina's task errors): the message, the stack and a
 *   cloneable `cause`; the class becomes `Error`, `name` too unless built in, and own properties
 *   such as `code` and `key` are lost;
 * - a worker's uncaught error (the `'error'` event): Node's own serializer keeps own properties
 *   (`name`, `code`, `key`), message and stack, but the class is `Error`.
 * So a pool task's `DContextError` crosses in a form of its own ({@link toThreadError}), and a
 * worker's uncaught one gets its class back in place ({@link reviveWorkerError}).
 */
import { DContextError, type DContextErrorCode, isDContextError } from '../errors.js';

/** Every code a `DContextError` can have: another string does not come from dcontext. */
const ERROR_CODES: Record<DContextErrorCode, true> = {
  NOT_INITIALIZED: true,
  REGISTRY_FROZEN: true,
  ALREADY_REGISTERED: true,
  NOT_REGISTERED: true,
  TYPE_MISMATCH: true,
  NO_ACTIVE_SCOPE: true,
  SCOPE_ORDER: true,
  SCOPE_LEAKED: true,
  ASYNC_IN_SYNC_SCOPE: true,
  INVALID_ARGUMENT: true,
  INCOMPATIBLE_RUNTIME: true,
  CONTEXT_TOO_LARGE: true,
  DECODE_FAILED: true,
  ENCODE_FAILED: true,
  NOT_CLONEABLE: true,
  NOT_ACCEPTED: true,
  BAD_SIGNATURE: true,
  TASK_NOT_WRAPPED: true,
  CONFLICT: true,
  UNSUPPORTED_RUNTIME: true,
  STORE_UNAVAILABLE: true,
  QUEUE_FULL: true,
  CLOSED: true,
};

function isErrorCode(code: unknown): code is DContextErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Marks the form a task error crosses in (a string: symbols do not survive structured clone). */
const ERROR_TAG = '@@dcontext:error';

/**
 * `error` in the form a pool task throws it back in: for a `DContextError`,
 * `[tag, plain Error with its message, stack and (cloneable) cause, code, key]`; any other error
 * as it is.
 */
export function toThreadError(error: unknown): unknown {
  if (!isDContextError(error)) return error;
  const plain = new Error(error.message);
  if (error.stack !== undefined) plain.stack = error.stack;
  const cause: unknown = error.cause;
  if (cause !== undefined && isCloneable(cause)) plain.cause = cause;
  return [ERROR_TAG, plain, error.code, error.key ?? null];
}

/** Whether `error` is in the form {@link toThreadError} makes. */
export function isThreadError(error: unknown): error is unknown[] {
  return Array.isArray(error) && error[0] === ERROR_TAG && error.length === 4;
}

/**
 * The `DContextError` a {@link toThreadError} form stands for (its code, key, message and the
 * stack of the thread that threw it).
 */
export function fromThreadError(form: unknown[]): unknown {
  const error = form[1];
  const code = form[2];
  if (!isErrorCode(code) || !(error instanceof Error)) return error;
  const key = typeof form[3] === 'string' ? form[3] : undefined;
  const options = error.cause === undefined ? undefined : { cause: error.cause };
  const revived = new DContextError(code, error.message, key, options);
  if (error.stack !== undefined) revived.stack = error.stack;
  return revived;
}

/**
 * Gives a worker's uncaught `DContextError`, as Node delivers it to the `'error'` event (an
 * `Error` with the own properties `name`, `code` and `key`), its class back, in place: other
 * listeners receive the same object. Returns `error`.
 */
export function reviveWorkerError(error: unknown): unknown {
  if (
    error instanceof Error &&
    !(error instanceof DContextError) &&
    error.name === 'DContextError' &&
    isErrorCode((error as { code?: unknown }).code) &&
    Object.isExtensible(error)
  ) {
    Object.setPrototypeOf(error, DContextError.prototype);
  }
  return error;
}

function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
