/**
 * What a write checks before it lands: the key's `validate`, and that a scope is open. Error
 * paths of the hot write, kept out of frame.ts so that module stays a one-minute read.
 */
import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { describeValue } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import type { Frame } from './frame-shape.js';

/** Why a value failed its key's `validate`: `cause` is what the predicate threw, if it threw. */
export interface ValidationFailure {
  readonly cause: unknown;
}

const REJECTED: ValidationFailure = Object.freeze({ cause: undefined });

/**
 * Runs the key's `validate` on `value` (never on undefined): undefined when it passes or the key
 * has none, else the failure. Shared by writes (`TYPE_MISMATCH`) and the wire (`DECODE_FAILED`).
 */
export function validationFailure(
  definition: KeyDefinition,
  value: unknown,
): ValidationFailure | undefined {
  const validate = definition.validate;
  if (validate === undefined || value === undefined) return undefined;
  try {
    return validate(value) ? undefined : REJECTED;
  } catch (cause) {
    // A predicate that throws on a value of the wrong shape has rejected it.
    return { cause };
  }
}

/** Checks `value` against the key's `validate` predicate; throws `TYPE_MISMATCH` on failure. */
export function validateValue(definition: KeyDefinition, value: unknown): void {
  const failure = validationFailure(definition, value);
  if (failure === undefined) return;
  throw new DContextError(
    'TYPE_MISMATCH',
    `value rejected by the validate() of '${definition.name}' (got ${describeValue(value)}); pass a value that key's validate() accepts`,
    definition.name,
    failure.cause === undefined ? undefined : { cause: failure.cause },
  );
}

/**
 * The `NO_ACTIVE_SCOPE` error for a write to the read-only root `frame`, saying which store was
 * written and what to use instead: the common mistake is writing through one store while only the
 * other has a scope open.
 */
export function noActiveScope(frame: Frame, name: string): DContextError {
  const asyncOpen = runtime.als.getStore() !== undefined;
  const syncOpen = !runtime.syncCurrent.isRoot;
  let message: string;
  if (asyncOpen && frame === runtime.syncCurrent) {
    message = `cannot write '${name}' through syncCtx: no sync scope is open here, but an async scope is (scope() / asyncCtx.scope()); write with set() or asyncCtx.set(), or open a sync scope with syncCtx.scope() / syncCtx.enterScope()`;
  } else if (syncOpen && !asyncOpen) {
    message = `cannot write '${name}' through asyncCtx: no async scope is open here, but a sync scope is (syncCtx.scope() / enterScope()); write with set() or syncCtx.set(), or open an async scope with scope()`;
  } else {
    message = `cannot write '${name}' outside any scope: the root context is read-only; run the work in scope(...) (or syncCtx.scope(...) for synchronous code)`;
  }
  return new DContextError('NO_ACTIVE_SCOPE', message, name);
}
