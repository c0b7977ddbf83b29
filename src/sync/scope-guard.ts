import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import type { Frame } from '../store/frame.js';

/**
 * An open scope of the synchronous store. Close it with `exit()` or let `using` dispose it.
 * Guards close in LIFO order: closing one that is not the innermost throws `SCOPE_ORDER` and
 * leaves the stack as it was. Closing a guard twice is a no-op.
 *
 * @example
 * { using guard = syncCtx.enterNamedScope('ingress'); syncCtx.set(requestId, 'r1'); }
 */
export class ScopeGuard implements Disposable {
  readonly #frame: Frame;
  readonly #previous: Frame;
  #open = true;

  /** @internal opened by `syncCtx.enterScope()`, `enterNamedScope()` or `attach()`. */
  constructor(frame: Frame) {
    this.#frame = frame;
    this.#previous = runtime.syncCurrent;
    runtime.syncCurrent = frame;
  }

  /** Whether this scope is still open. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Closes the scope, rolling back every value set in it. */
  exit(): void {
    if (!this.#open) return;
    if (runtime.syncCurrent !== this.#frame) {
      throw new DContextError(
        'SCOPE_ORDER',
        'scope guards must close in reverse order of opening (LIFO); close the inner scope first',
      );
    }
    this.#open = false;
    runtime.syncCurrent = this.#previous;
  }

  [Symbol.dispose](): void {
    this.exit();
  }
}
