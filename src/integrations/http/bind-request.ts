/**
 * `bindEmitter(req)` for the requests an ingress serves, at a fraction of its cost. Writing five
 * methods onto each request measured ~0.5-0.8 µs a request on a real `IncomingMessage` (Node 20
 * and 24; a large object, whose property store grows); here the five methods are defined once,
 * on `IncomingMessage.prototype`, the first time an ingress serves a request, and each request
 * gets one flag. The methods bind the listeners of a flagged request to the scope adding them, and
 * leave every other `IncomingMessage` (a client's response, a request no ingress served) to the
 * method they inherit, looked up at each call (a later patch of `Readable.prototype` still
 * applies). A request whose methods are not those (an instance patched by another library, an
 * HTTP/2 compatibility request) gets `bindEmitter` itself.
 */
import type { EventEmitter } from 'node:events';
import { IncomingMessage } from 'node:http';
// Internal: listeners of a request enter its frame, not a snapshot of it (see requestListener).
import { bindEmitter, type Listener } from '../../index.js';
import { frameListener } from '../../internal/both-stores.js';

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
type Flagged = EventEmitter & { [BOUND_REQUEST]?: true };

const proto = IncomingMessage.prototype as unknown as Methods;

/** The method `proto` inherits, at the time of the call. */
function inherited(name: AddName): Add {
  return (Object.getPrototypeOf(proto) as Methods)[name];
}

function adds(name: 'on' | 'addListener' | 'prependListener'): Add {
  return function (this: Flagged, event, listener) {
    const bound =
      this[BOUND_REQUEST] === true && typeof listener === 'function'
        ? requestListener(listener)
        : listener;
    return inherited(name).call(this, event, bound);
  };
}

// `once` is built on `on` for a bound request, as in bindEmitter: Node's own `once` wrapper would
// hide the original listener one level deeper and break `off(event, original)`.
function addsOnce(name: 'once' | 'prependOnceListener', add: 'on' | 'prependListener'): Add {
  return function (this: Flagged, event, listener) {
    if (this[BOUND_REQUEST] !== true || typeof listener !== 'function') {
      return inherited(name).call(this, event, listener);
    }
    return inherited(add).call(this, event, onceListener(this, event, listener));
  };
}

/**
 * `listener` bound to the scope that adds it (see frameListener: no snapshot, and no `run` at all
 * when the emit comes from that scope already, as the `'end'` listener Node adds to every request
 * after its response does), with `listener` kept for `off(event, listener)` as Node's `once` does.
 */
function requestListener(listener: Listener): Listener {
  const bound: Listener & { listener?: Listener } = frameListener(listener);
  bound.listener = listener;
  return bound;
}

function onceListener(emitter: EventEmitter, event: EventName, listener: Listener): Listener {
  const bound = frameListener(listener);
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
 * Makes every listener added to `req` from now on run in the scope where it was added (both
 * stores): in that scope itself, as the request's own code does, where `bindEmitter(req)` gives
 * each call a fresh scope of its own (the fallback below keeps that).
 */
export function bindRequest(req: IncomingMessage): void {
  if (proto.on[REQUEST_METHOD] !== true) definePrototypeMethods();
  const methods = req as unknown as Methods;
  if (
    methods.on[REQUEST_METHOD] === true &&
    methods.addListener[REQUEST_METHOD] === true &&
    methods.prependListener[REQUEST_METHOD] === true &&
    methods.once[REQUEST_METHOD] === true &&
    methods.prependOnceListener[REQUEST_METHOD] === true
  ) {
    (req as Flagged)[BOUND_REQUEST] = true;
  } else {
    bindEmitter(req);
  }
}
