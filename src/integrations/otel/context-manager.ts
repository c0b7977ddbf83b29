/**
 * `DContextManager`: OpenTelemetry's `ContextManager` on dcontext's own store. The active
 * OpenTelemetry `Context` is the `foreign` context of the active dcontext frame, so one
 * AsyncLocalStorage serves both: a span started inside `scope('handler', …)` parents to the span
 * active around it (a child scope inherits its parent's context), and
 * `context.with(ctx, () => scope(…))` keeps `ctx` inside.
 */
import type { EventEmitter } from 'node:events';
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';
import { activeForeign, runInSnapshotWithForeign, runWithForeign } from '../../store/foreign.js';
import { contextOf, EnteredWhileDisabled, snapshotIn } from './active-context.js';
import { bindTo, type RunIn } from './bind.js';
import { installOtelHooks } from './hooks.js';

/**
 * OpenTelemetry's context manager, on dcontext's store: install it once, in place of
 * `AsyncLocalStorageContextManager`.
 *
 * - `with(ctx, fn)` runs `fn` in a new unnamed dcontext scope that carries `ctx`: values set
 *   inside stay inside, as with `scope`. When `ctx` carries a dcontext snapshot (from
 *   `DContextPropagator.extract`) that the active context does not carry already, the scope
 *   holds that snapshot's values and scope chain (as `withContext` does).
 * - `bind(ctx, target)` binds a function, or every listener later added to an EventEmitter, to
 *   `ctx`; `removeListener`/`off` with the original listener and `removeAllListeners` work.
 * - `disable()`: `active()` is `ROOT_CONTEXT` (contexts entered through a disabled manager are
 *   still seen by their own callbacks); `enable()` restores it.
 *
 * Every `DContextManager` reads and writes the one store: two instances share the active context.
 *
 * @example
 * import { context } from '@opentelemetry/api';
 * context.setGlobalContextManager(new DContextManager().enable());
 */
export class DContextManager implements ContextManager {
  // Enabled from the start, as OpenTelemetry's AsyncLocalStorageContextManager is.
  #enabled = true;
  readonly #boundEmitters = new WeakSet<EventEmitter>();
  readonly #run: RunIn = (context, fn, thisArg, args) => this.with(context, fn, thisArg, ...args);

  constructor() {
    installOtelHooks();
  }

  /** The OpenTelemetry context of the active dcontext scope; `ROOT_CONTEXT` outside any, or when disabled. */
  active(): Context {
    return contextOf(activeForeign(), this.#enabled) ?? ROOT_CONTEXT;
  }

  /** Calls `fn` with `thisArg` and `args` in a new dcontext scope that carries `context`. */
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const foreign = this.#enabled ? context : new EnteredWhileDisabled(context);
    const call = fn as unknown as (this: unknown, ...args: A) => ReturnType<F>;
    const snapshot = snapshotIn(context);
    if (snapshot !== undefined && snapshot !== snapshotIn(contextOf(activeForeign()))) {
      return runInSnapshotWithForeign(snapshot, foreign, call, thisArg, args);
    }
    return runWithForeign(foreign, call, thisArg, args);
  }

  /**
   * `target` bound to `context`: a function that runs in it, or an EventEmitter whose listeners
   * (added from now on) run in it. Anything else is returned unchanged.
   */
  bind<T>(context: Context, target: T): T {
    return bindTo(context, target, this.#run, this.#boundEmitters);
  }

  /** Turns context management on; also installs `traceFields` for `dcontext/log`. Returns `this`. */
  enable(): this {
    this.#enabled = true;
    installOtelHooks();
    return this;
  }

  /** Turns context management off: `active()` is `ROOT_CONTEXT`. Returns `this`. */
  disable(): this {
    this.#enabled = false;
    return this;
  }
}
