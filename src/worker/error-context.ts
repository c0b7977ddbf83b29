/**
 * Errors from workers and pool tasks carry the context of the work that failed, so a log of the
 * failure says which request it belonged to. Structured clone keeps only an error's name,
 * message and stack across threads, so the context is attached on the receiving side, from the
 * snapshot the work was sent with.
 */
import { findDefinition } from '../registry/registry.js';
import type { Snapshot } from '../store/snapshot.js';

const PROPERTY = 'dcontext';

/** The context of the work that failed, as attached to its error under `error.dcontext`. */
export interface FailedWorkContext {
  /** The named scopes the work was submitted from, outermost first. */
  readonly scopeChain: readonly string[];
  /**
   * Its non-local values by key name: what a log line needs to place the failure. A
   * null-prototype object, so a key named `__proto__` is an entry like any other.
   */
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * The whole context, local keys included, to re-enter with `withContext` (not enumerable).
   * Absent when the error itself crossed a thread (an uncaught error in a worker keeps only
   * `scopeChain` and `values`).
   */
  readonly snapshot?: Snapshot;
}

/**
 * Attaches `snapshot` to `error` as an enumerable `dcontext` property (shown by `util.inspect`
 * and by loggers that serialize own properties). Keeps an existing one (the innermost wins);
 * leaves primitives and frozen errors as they are. Returns `error`.
 */
export function attachContext(error: unknown, snapshot: Snapshot): unknown {
  if (typeof error !== 'object' || error === null || Object.hasOwn(error, PROPERTY)) return error;
  if (!Object.isExtensible(error)) return error;
  // No prototype: a key named '__proto__' must stay an entry, not replace the prototype.
  const values: Record<string, unknown> = Object.create(null);
  for (const [name, value] of snapshot.entries()) {
    if (findDefinition(name)?.local !== true) values[name] = value;
  }
  const context = { scopeChain: snapshot.scopeChain, values };
  Object.defineProperty(context, 'snapshot', { value: snapshot });
  Object.defineProperty(error, PROPERTY, {
    value: Object.freeze(context),
    enumerable: true,
    configurable: true,
  });
  return error;
}

/**
 * The context attached to an error from a worker or a pool task, or undefined.
 *
 * @example
 * try { await runWithContext(pool, job) } catch (e) { log.error(errorContext(e)?.values, e) }
 */
export function errorContext(error: unknown): FailedWorkContext | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const context: unknown = Reflect.get(error, PROPERTY);
  if (typeof context !== 'object' || context === null) return undefined;
  const { scopeChain, values } = context as Partial<FailedWorkContext>;
  if (!Array.isArray(scopeChain) || typeof values !== 'object' || values === null) return undefined;
  return context as FailedWorkContext;
}
