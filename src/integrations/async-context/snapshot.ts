import { type Snapshot as ContextSnapshot, DContextError } from '../../index.js';
import { applyInSnapshot, captureActive, runInSnapshot } from '../../store/variable-scope.js';

/**
 * The whole async context captured when it is constructed, as the TC39 AsyncContext proposal
 * defines it: every `AsyncContext.Variable`, and dcontext's typed keys and scope chain too. Taken
 * in O(1) (the captured scope copies on its next write); `run` re-enters it any number of times.
 *
 * @example
 * const snapshot = requestVar.run('r1', () => new AsyncContext.Snapshot());
 * snapshot.run(() => requestVar.get()); // 'r1'
 */
export class Snapshot {
  readonly #captured: ContextSnapshot;

  constructor() {
    this.#captured = captureActive();
  }

  /**
   * Calls `fn(...args)` in the captured context and returns what it returns; the context in
   * force before is back when `fn` returns or throws. Throws `INVALID_ARGUMENT` (running
   * nothing) when `fn` is not a function.
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    requireCallable(fn, 'AsyncContext.Snapshot: run(fn)');
    return runInSnapshot(this.#captured, fn, args);
  }

  /**
   * `fn`, bound to the context in force now: each call of the returned function runs `fn` in it,
   * passing `this` and the arguments through.
   *
   * @example
   * emitter.on('data', AsyncContext.Snapshot.wrap(onData));
   */
  static wrap<This, A extends unknown[], R>(
    fn: (this: This, ...args: A) => R,
  ): (this: This, ...args: A) => R {
    requireCallable(fn, 'AsyncContext.Snapshot.wrap(fn)');
    const captured = captureActive();
    const wrapped = function (this: This, ...args: A): R {
      return applyInSnapshot(captured, fn, this, args);
    };
    // As the proposal's CopyNameAndLength(wrapped, fn, "wrapped") does.
    Object.defineProperty(wrapped, 'name', { value: `wrapped ${fn.name}` });
    Object.defineProperty(wrapped, 'length', { value: fn.length });
    return wrapped;
  }

  /**
   * dcontext's extension: the captured context as a dcontext `Snapshot` (typed keys, scope chain
   * and variables), for `withContext`, `serialize` (which writes the typed keys only) or a worker.
   */
  toContextSnapshot(): ContextSnapshot {
    return this.#captured;
  }
}

function requireCallable(fn: unknown, verb: string): void {
  if (typeof fn !== 'function') {
    throw new DContextError('INVALID_ARGUMENT', `${verb} needs a function, got ${typeof fn}`);
  }
}
