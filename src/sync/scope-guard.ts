import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import type { Frame } from '../store/frame-shape.js';
import { chainToArray } from '../store/scope-chain.js';

/**
 * An open scope of the synchronous store. Close it with `exit()` or let `using` dispose it.
 * Guards close in LIFO order: closing one that is not the innermost throws `SCOPE_ORDER` and
 * leaves the stack as it was. Closing a guard twice is a no-op.
 *
 * A guard lives within one synchronous run of code. One still open when that run ends (held
 * across an `await`, say, where another request's code runs next) is closed by dcontext at the
 * end of the tick, with a `DContextWarning` naming the scope: its values never reach code that
 * did not open it. Its own `exit()` then throws `SCOPE_LEAKED`.
 *
 * @example
 * { using guard = syncCtx.enterNamedScope('ingress'); syncCtx.set(requestId, 'r1'); }
 */
export class ScopeGuard implements Disposable {
  readonly #frame: Frame;
  readonly #previous: Frame;
  readonly #epoch: number;
  #open = true;

  /** @internal opened by `syncCtx.enterScope()`, `enterNamedScope()` or `attach()`. */
  constructor(frame: Frame) {
    this.#frame = frame;
    this.#previous = runtime.syncCurrent;
    this.#epoch = runtime.syncEpoch;
    runtime.syncCurrent = frame;
    if (!runtime.leakCheckQueued) {
      runtime.leakCheckQueued = true;
      queueMicrotask(closeLeakedScopes);
    }
  }

  /** Whether this scope is still open. */
  get isOpen(): boolean {
    return this.#open && this.#epoch === runtime.syncEpoch;
  }

  /** Closes the scope, rolling back every value set in it. */
  exit(): void {
    if (!this.#open) return;
    if (this.#epoch !== runtime.syncEpoch) {
      this.#open = false;
      throw new DContextError(
        'SCOPE_LEAKED',
        `this syncCtx scope (${describeScope(this.#frame)}) was already closed by dcontext: it was still open when its tick ended, so it was held across an await or a callback; syncCtx scopes must close in the same synchronous run that opened them - use scope() (asyncCtx) for work that awaits`,
      );
    }
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

/**
 * Runs once at the end of a tick in which a guard was opened. Legitimate sync scopes have all
 * closed by then (no code of theirs is on the stack); any frame still current was leaked, and
 * would otherwise be read by whatever runs next - another request's code, a timer. The stack
 * goes back to the root and every guard opened so far becomes void.
 */
function closeLeakedScopes(): void {
  runtime.leakCheckQueued = false;
  const leaked = runtime.syncCurrent;
  if (leaked.isRoot) return;
  runtime.syncCurrent = runtime.root;
  runtime.syncEpoch++;
  process.emitWarning(
    `dcontext: a syncCtx scope (${describeScope(leaked)}) was still open when its tick ended (a guard held across an await or a callback?); it was closed so that no other code reads its values`,
    { type: 'DContextWarning', code: 'DCONTEXT_SCOPE_LEAKED' },
  );
}

function describeScope(frame: Frame): string {
  const names = chainToArray(frame.chain);
  return names.length === 0 ? 'unnamed' : `scope chain ${names.join('>')}`;
}
