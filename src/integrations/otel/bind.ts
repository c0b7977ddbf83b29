/**
 * `bind` of `DContextManager`, with OpenTelemetry's semantics: a bound function, and every
 * listener added to a bound emitter, runs in the GIVEN context (not in the one active where it
 * was bound or added). dcontext's own `bindEmitter` binds to the context active where each
 * listener is added, so it is not reused here.
 */
import { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';
import {
  forget as forgetWrapper,
  remember as rememberWrapper,
  type Wrappers,
} from '../../emitter/listener-wrappers.js';

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
type RemoveName = 'removeListener' | 'off';
type RemoveAll = (this: EventEmitter, event?: EventName) => EventEmitter;

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
 * Patches the methods that add listeners, so each listener runs in `context`, and those that
 * remove them, so `removeListener`/`off` with the original listener remove its wrapper. The
 * wrapper also keeps the original as its `listener` property (Node's convention for `once`), so
 * `listeners()` and Node's own removal see the originals. Removal goes through the wrappers this
 * bind made, not only `listener`, because another manager's bind of the same emitter (a second
 * `DContextManager`, OpenTelemetry's `AsyncLocalStorageContextManager`) may wrap ours again. A
 * second bind of the same emitter by the same manager is a no-op (the first context stays).
 */
function bindEmitter<E extends EventEmitter>(
  context: Context,
  emitter: E,
  run: RunIn,
  bound: WeakSet<EventEmitter>,
): E {
  if (bound.has(emitter)) return emitter;
  bound.add(emitter);
  const target = emitter as unknown as Record<AddName, AddMethod> &
    Record<RemoveName, AddMethod> & { removeAllListeners: RemoveAll };
  const wrappers: Wrappers = new Map();
  const remember = (event: EventName, listener: Listener, wrapper: Listener): Listener => {
    rememberWrapper(wrappers, event, listener, wrapper);
    return Object.defineProperty(wrapper, 'listener', { value: listener });
  };
  const forget = (event: EventName, listener: Listener, wrapper?: Listener) =>
    forgetWrapper(wrappers, event, listener, wrapper);
  const add = (method: AddMethod): AddMethod =>
    function (this: EventEmitter, event, listener) {
      // A non-function is left to the emitter's own check (Node's ERR_INVALID_ARG_TYPE).
      if (typeof listener !== 'function') return method.call(this, event, listener);
      return method.call(
        this,
        event,
        remember(event, listener, bindFunction(context, listener, run)),
      );
    };
  const remove = (method: AddMethod): AddMethod =>
    function (this: EventEmitter, event, listener) {
      return method.call(this, event, forget(event, listener) ?? listener);
    };
  const removeListener = target.removeListener;
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
        forget(event, listener, once);
        removeListener.call(emitter, event, once);
        return inContext.apply(this, args);
      };
      return method.call(this, event, remember(event, listener, once));
    };
  const removeAll = target.removeAllListeners;
  const on = target.on;
  const prepend = target.prependListener;
  target.on = add(on);
  target.addListener = add(target.addListener);
  target.prependListener = add(prepend);
  target.once = addOnce(on);
  target.prependOnceListener = addOnce(prepend);
  target.removeListener = remove(removeListener);
  target.off = remove(target.off);
  target.removeAllListeners = function (this: EventEmitter, ...args: [EventName?]) {
    if (args.length === 0) wrappers.clear();
    else wrappers.delete(args[0] as EventName);
    return removeAll.apply(this, args);
  };
  return emitter;
}
