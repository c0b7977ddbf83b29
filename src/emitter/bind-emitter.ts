import { EventEmitter } from 'node:events';
import { DContextError } from '../errors.js';
import { describeValue } from '../registry/registry.js';
import { bindListener, type Listener } from './bind-listener.js';
import { forget, remember, type Wrappers } from './listener-wrappers.js';

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
type RemoveName = 'removeListener' | 'off';
type RemoveAll = (this: EventEmitter, event?: EventName) => EventEmitter;

/** Where an emitter keeps its {@link Wrappers}. Global, as {@link BOUND}. */
const WRAPPERS = Symbol.for('dcontext.boundEmitterWrappers');

type Patchable = EventEmitter &
  Record<AddName | RemoveName, AddMethod> & {
    removeAllListeners: RemoveAll;
    [WRAPPERS]?: Wrappers;
  };

const NODE_REMOVE = EventEmitter.prototype.removeListener as AddMethod;
const NODE_OFF = EventEmitter.prototype.off as AddMethod;
const NODE_REMOVE_ALL = EventEmitter.prototype.removeAllListeners as RemoveAll;

/**
 * The wrappers made so far, by the method they wrap (the same few for every request, socket or
 * stream of a class): `bindEmitter` then costs five property writes per emitter, no closure.
 */
const addWrappers = new WeakMap<AddMethod, AddMethod>();
const onceWrappers = new WeakMap<AddMethod, AddMethod>();
const removeWrappers = new WeakMap<AddMethod, AddMethod>();

function addWrapper(method: AddMethod): AddMethod {
  let wrapper = addWrappers.get(method);
  if (wrapper === undefined) {
    wrapper = function (this: EventEmitter, event, listener) {
      // A non-function is left to the emitter's own check (Node's ERR_INVALID_ARG_TYPE).
      if (typeof listener !== 'function') return method.call(this, event, listener);
      const bound = bindListener(listener);
      const wrappers = (this as Patchable)[WRAPPERS];
      if (wrappers !== undefined) remember(wrappers, event, listener, bound);
      return method.call(this, event, bound);
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
      if (typeof listener !== 'function') return method.call(this, event, listener);
      const wrapped = onceListener(this, event, listener);
      const wrappers = (this as Patchable)[WRAPPERS];
      if (wrappers !== undefined) remember(wrappers, event, listener, wrapped);
      return method.call(this, event, wrapped);
    };
    wrapper[BOUND] = true;
    onceWrappers.set(method, wrapper);
  }
  return wrapper;
}

function removeWrapper(method: AddMethod): AddMethod {
  let wrapper = removeWrappers.get(method);
  if (wrapper === undefined) {
    wrapper = function (this: EventEmitter, event, listener) {
      const wrappers = (this as Patchable)[WRAPPERS];
      const found =
        wrappers === undefined || typeof listener !== 'function'
          ? undefined
          : forget(wrappers, event, listener);
      return method.call(this, event, found ?? listener);
    };
    wrapper[BOUND] = true;
    removeWrappers.set(method, wrapper);
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
 * `off`, `removeListener`, `listeners` and `'newListener'` keep seeing the original listeners,
 * also on an emitter a context manager (OpenTelemetry's, `DContextManager`) bound first.
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
  if (target.on[BOUND] === true || (target as { [REQUEST]?: unknown })[REQUEST] !== undefined) {
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
  // Node's own removal finds our wrappers by their `listener` property. A removal that is not
  // Node's — a context manager that bound the emitter first (DContextManager, OpenTelemetry's
  // AsyncLocalStorageContextManager) and wraps our wrappers again, keeping its own record of
  // what it was given — must be handed our wrapper, not the original: only then do we keep a
  // record of them, for this emitter.
  const removeListener = target.removeListener;
  const off = target.off;
  const removeAll = target.removeAllListeners;
  if (removeListener !== NODE_REMOVE || off !== NODE_OFF || removeAll !== NODE_REMOVE_ALL) {
    const wrappers: Wrappers = new Map();
    target[WRAPPERS] = wrappers;
    target.removeListener = removeWrapper(removeListener);
    target.off = removeWrapper(off);
    target.removeAllListeners = function (this: EventEmitter, ...args: [EventName?]) {
      if (args.length === 0) wrappers.clear();
      else wrappers.delete(args[0] as EventName);
      return removeAll.apply(this, args);
    };
  }
  return emitter;
}

function onceListener(emitter: EventEmitter, event: EventName, listener: Listener): Listener {
  const bound = bindListener(listener);
  let fired = false;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    if (fired) return undefined;
    fired = true;
    const wrappers = (emitter as Patchable)[WRAPPERS];
    if (wrappers !== undefined) forget(wrappers, event, listener, wrapper);
    emitter.removeListener(event, wrapper);
    return bound.apply(this, args);
  };
  // What Node's own `once` does: `off(event, original)` finds the wrapper by this property.
  (wrapper as { listener?: Listener }).listener = listener;
  return wrapper;
}
