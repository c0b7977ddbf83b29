/**
 * `bindEmitter(req)` for the requests an ingress serves, at a fraction of its cost. Writing five
 * methods onto each request measured ~0.5-0.8 µs a request on a real `IncomingMessage` (Node 20
 * and 24; a large object, whose property store grows); here the five methods are defined once,
 * on `IncomingMessage.prototype`, the first time an ingress serves a request, and each request
 * gets one flag. The methods bind the listeners of a flagged request, as `bindEmitter` does, and
 * leave every other `IncomingMessage` (a client's response, a request no ingress served) to the
 * method they inherit, looked up at each call (a later patch of `Readable.prototype` still
 * applies). A request whose methods are not those (an instance patched by another library, an
 * HTTP/2 compatibility request) gets `bindEmitter` itself.
 */
import type { EventEmitter } from 'node:events';
import { IncomingMessage } from 'node:http';
import { bindEmitter, bindListener, type Listener } from '../../index.js';
// Internal: a listener the request's own scope adds is bound to its frame (see requestListener).
import { currentAsyncFrame, frameListener } from '../../internal/both-stores.js';
import type { Frame } from '../../store/frame-shape.js';

/**
 * The flag of a bound request. Global (`Symbol.for`): the ESM and CommonJS builds share the
 * methods on the prototype and read the same flag; `bindEmitter` reads it too, and leaves a
 * flagged request alone.
 */
const BOUND_REQUEST = Symbol.for('dcontext.boundRequest');
/** Marks the methods defined here (by either build). */
const REQUEST_METHOD = Symbol.for('dcontext.requestMethod');

type EventName = string | symbol;
type Add = ((this: EventEmitter, event: EventName, listener: Listener) => EventEmitter) & {
  [REQUEST_METHOD]?: true;
};
type AddName = 'on' | 'addListener' | 'prependListener' | 'once' | 'prependOnceListener';
type Methods = Record<AddName, Add>;
/** A served request, flagged with the frame of its scope. */
type Flagged = EventEmitter & { [BOUND_REQUEST]?: Frame };

const proto = IncomingMessage.prototype as unknown as Methods;

/** The method `proto` inherits, at the time of the call. */
function inherited(name: AddName): Add {
  return (Object.getPrototypeOf(proto) as Methods)[name];
}

function adds(name: 'on' | 'addListener' | 'prependListener'): Add {
  return function (this: Flagged, event, listener) {
    const own = this[BOUND_REQUEST];
    const bound =
      own !== undefined && typeof listener === 'function'
        ? requestListener(listener, own)
        : listener;
    return inherited(name).call(this, event, bound);
  };
}

// `once` is built on `on` for a bound request, as in bindEmitter: Node's own `once` wrapper would
// hide the original listener one level deeper and break `off(event, original)`.
function addsOnce(name: 'once' | 'prependOnceListener', add: 'on' | 'prependListener'): Add {
  return function (this: Flagged, event, listener) {
    const own = this[BOUND_REQUEST];
    if (own === undefined || typeof listener !== 'function') {
      return inherited(name).call(this, event, listener);
    }
    return inherited(add).call(this, event, onceListener(this, event, listener, own));
  };
}

/**
 * `listener` bound to the context that adds it. Added by the request's own scope (the handler, a
 * body parser, Node's `'end'` listener after the response), it is bound to that frame
 * (frameListener: no snapshot, and no `run` at all when it is emitted from that scope, as Node's
 * listener is); added from any other context (a scope the server was started in, a child scope),
 * it gets `bindListener`, a fresh scope per call, so no write of it reaches a shared frame.
 * `listener` is kept for `off(event, listener)`, as Node's `once` does.
 */
function requestListener(listener: Listener, own: Frame): Listener {
  if (currentAsyncFrame() !== own) return bindListener(listener);
  const bound: Listener & { listener?: Listener } = frameListener(listener, own);
  bound.listener = listener;
  return bound;
}

function onceListener(
  emitter: EventEmitter,
  event: EventName,
  listener: Listener,
  own: Frame,
): Listener {
  const bound = requestListener(listener, own);
  let fired = false;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    if (fired) return undefined;
    fired = true;
    emitter.removeListener(event, wrapper);
    return bound.apply(this, args);
  };
  (wrapper as { listener?: Listener }).listener = listener;
  return wrapper;
}

function definePrototypeMethods(): void {
  const methods: Methods = {
    on: adds('on'),
    addListener: adds('addListener'),
    prependListener: adds('prependListener'),
    once: addsOnce('once', 'on'),
    prependOnceListener: addsOnce('prependOnceListener', 'prependListener'),
  };
  for (const [name, method] of Object.entries(methods)) {
    method[REQUEST_METHOD] = true;
    // As Node defines methods: writable, configurable, not enumerable.
    Object.defineProperty(proto, name, {
      value: method,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}

/**
 * Makes every listener added to `req` from now on run in the context where it was added (both
 * stores), as `bindEmitter(req)` does; called inside the request's scope.
 */
export function bindRequest(req: IncomingMessage): void {
  if (proto.on[REQUEST_METHOD] !== true) definePrototypeMethods();
  const methods = req as unknown as Methods;
  const own = currentAsyncFrame();
  if (
    own !== undefined &&
    methods.on[REQUEST_METHOD] === true &&
    methods.addListener[REQUEST_METHOD] === true &&
    methods.prependListener[REQUEST_METHOD] === true &&
    methods.once[REQUEST_METHOD] === true &&
    methods.prependOnceListener[REQUEST_METHOD] === true
  ) {
    // The frame of the request's scope (this runs inside it): see requestListener.
    (req as Flagged)[BOUND_REQUEST] = own;
  } else {
    bindEmitter(req);
  }
}
