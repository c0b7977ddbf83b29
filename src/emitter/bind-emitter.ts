import type { EventEmitter } from 'node:events';
import { DContextError } from '../errors.js';
import { describeValue } from '../registry/registry.js';
import { bindListener, type Listener } from './bind-listener.js';

/**
 * Marks the add methods `bindEmitter` installs. Global (`Symbol.for`): the ESM and CommonJS
 * builds, loaded side by side, recognise each other's and do not wrap twice.
 */
const BOUND = Symbol.for('dcontext.boundEmitter');

/** The flag of a request bound by dcontext/http (see integrations/http/bind-request.ts). */
const REQUEST = Symbol.for('dcontext.boundRequest');

type EventName = string | symbol;
type AddMethod = ((this: EventEmitter, event: EventName, listener: Listener) => EventEmitter) & {
  [BOUND]?: true;
};
type AddName = 'on' | 'addListener' | 'prependListener' | 'once' | 'prependOnceListener';
type Patchable = EventEmitter & Record<AddName, AddMethod>;

/**
 * The wrappers made so far, by the method they wrap (the same few for every request, socket or
 * stream of a class): `bindEmitter` then costs five property writes per emitter, no closure.
 */
const addWrappers = new WeakMap<AddMethod, AddMethod>();
const onceWrappers = new WeakMap<AddMethod, AddMethod>();

function addWrapper(method: AddMethod): AddMethod {
  let wrapper = addWrappers.get(method);
  if (wrapper === undefined) {
    wrapper = function (this: EventEmitter, event, listener) {
      // A non-function is left to the emitter's own check (Node's ERR_INVALID_ARG_TYPE).
      return method.call(
        this,
        event,
        typeof listener === 'function' ? bindListener(listener) : listener,
      );
    };
    wrapper[BOUND] = true;
    addWrappers.set(method, wrapper);
  }
  return wrapper;
}

function onceWrapper(method: AddMethod): AddMethod {
  let wrapper = onceWrappers.get(method);
  if (wrapper === undefined) {
    wrapper = function (this: EventEmitter, event, listener) {
      const wrapped =
        typeof listener === 'function' ? onceListener(this, event, listener) : listener;
      return method.call(this, event, wrapped);
    };
    wrapper[BOUND] = true;
    onceWrappers.set(method, wrapper);
  }
  return wrapper;
}

/**
 * Makes every listener added to `emitter` from now on run in the context where it was added
 * (both `asyncCtx` and `syncCtx`), not in the context of the code that emits. This is where
 * context gets lost with streams and sockets: a request's `req.on('end')` listener otherwise runs
 * in the context of the socket that delivered the last chunk. Listeners added before the call
 * are left as they are. Calling it twice is a no-op. Returns `emitter`.
 *
 * `off`, `removeListener`, `listeners` and `'newListener'` keep seeing the original listeners.
 *
 * @example
 * bindEmitter(req).on('end', () => log(get(requestId)));
 */
export function bindEmitter<E extends EventEmitter>(emitter: E): E {
  const target = emitter as unknown as Patchable;
  if (typeof target !== 'object' || target === null || typeof target.on !== 'function') {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `bindEmitter(emitter) needs an EventEmitter, got ${describeValue(emitter)}`,
    );
  }
  // Bound already: by this function, or (a request an ingress of dcontext/http serves) through
  // the methods dcontext/http defines on IncomingMessage.prototype.
  if (target.on[BOUND] === true || (target as { [REQUEST]?: true })[REQUEST] === true) {
    return emitter;
  }
  // Read through the instance: a subclass (or another patch) may have overridden them.
  const on = target.on;
  const prepend = target.prependListener;
  target.on = addWrapper(on);
  target.addListener = addWrapper(target.addListener);
  target.prependListener = addWrapper(prepend);
  // `once` is built on `on` here, not on Node's `once`, whose wrapper would hide the original
  // listener one level deeper and break `off(event, original)`.
  target.once = onceWrapper(on);
  target.prependOnceListener = onceWrapper(prepend);
  return emitter;
}

function onceListener(emitter: EventEmitter, event: EventName, listener: Listener): Listener {
  const bound = bindListener(listener);
  let fired = false;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    if (fired) return undefined;
    fired = true;
    emitter.removeListener(event, wrapper);
    return bound.apply(this, args);
  };
  // What Node's own `once` does: `off(event, original)` finds the wrapper by this property.
  (wrapper as { listener?: Listener }).listener = listener;
  return wrapper;
}
