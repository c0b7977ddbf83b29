/**
 * `bind` of `DContextManager`, with OpenTelemetry's semantics: a bound function, and every
 * listener added to a bound emitter, runs in the GIVEN context (not in the one active where it
 * was bound or added). dcontext's own `bindEmitter` binds to the context active where each
 * listener is added, so it is not reused here.
 */
import { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';

/** Runs `fn` in `context`: the manager's `with`. */
export type RunIn = (
  context: Context,
  fn: (this: unknown, ...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
) => unknown;

type Listener = (this: unknown, ...args: unknown[]) => unknown;
type EventName = string | symbol;
type AddMethod = (this: EventEmitter, event: EventName, listener: Listener) => EventEmitter;
type AddName = 'on' | 'addListener' | 'prependListener' | 'once' | 'prependOnceListener';

/** `target` bound to `context`: functions and EventEmitters; anything else is returned as is. */
export function bindTo<T>(
  context: Context,
  target: T,
  run: RunIn,
  bound: WeakSet<EventEmitter>,
): T {
  if (target instanceof EventEmitter) return bindEmitter(context, target, run, bound);
  if (typeof target === 'function') return bindFunction(context, target as Listener, run) as T;
  return target;
}

function bindFunction(context: Context, fn: Listener, run: RunIn): Listener {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return run(context, fn, this, args);
  };
  // Code that checks a callback's arity (Express error handlers, mocha's `done`) must see the original's.
  Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
  return wrapper;
}

/**
 * Patches the methods that add listeners, so each listener runs in `context`. The wrapper keeps
 * the original as its `listener` property, Node's own convention for `once`: `removeListener`,
 * `off`, `listeners` and `removeAllListeners` then work with the originals unpatched. A second
 * bind of the same emitter by the same manager is a no-op (the first context stays).
 */
function bindEmitter<E extends EventEmitter>(
  context: Context,
  emitter: E,
  run: RunIn,
  bound: WeakSet<EventEmitter>,
): E {
  if (bound.has(emitter)) return emitter;
  bound.add(emitter);
  const target = emitter as unknown as Record<AddName, AddMethod>;
  const wrap = (listener: Listener): Listener =>
    Object.defineProperty(bindFunction(context, listener, run), 'listener', { value: listener });
  const add = (method: AddMethod): AddMethod =>
    function (this: EventEmitter, event, listener) {
      // A non-function is left to the emitter's own check (Node's ERR_INVALID_ARG_TYPE).
      return method.call(this, event, typeof listener === 'function' ? wrap(listener) : listener);
    };
  // Built on `on`, not on Node's `once`, whose wrapper would hide the original one level deeper
  // (through our patched `on`) and break `removeListener(event, original)`.
  const addOnce = (method: AddMethod): AddMethod =>
    function (this: EventEmitter, event, listener) {
      if (typeof listener !== 'function') return method.call(this, event, listener);
      const emitter = this;
      const inContext = bindFunction(context, listener, run);
      let fired = false;
      const once = function (this: unknown, ...args: unknown[]): unknown {
        if (fired) return undefined;
        fired = true;
        emitter.removeListener(event, once);
        return inContext.apply(this, args);
      };
      return method.call(this, event, Object.defineProperty(once, 'listener', { value: listener }));
    };
  const on = target.on;
  const prepend = target.prependListener;
  target.on = add(on);
  target.addListener = add(target.addListener);
  target.prependListener = add(prepend);
  target.once = addOnce(on);
  target.prependOnceListener = addOnce(prepend);
  return emitter;
}
