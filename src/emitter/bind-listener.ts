import { captureBoth, runInBoth } from '../internal/both-stores.js';
import { requireFunction } from '../store/scope-arguments.js';

/** An event listener; `this` is the emitter, as Node calls it. */
export type Listener<A extends unknown[] = unknown[]> = (this: unknown, ...args: A) => unknown;

/** A listener bound by {@link bindListener}; `listener` is the original, as Node's `once` does it. */
export type BoundListener<A extends unknown[] = unknown[]> = Listener<A> & {
  readonly listener: Listener<A>;
};

/**
 * A listener that runs `listener` in the context captured now, in both `asyncCtx` and `syncCtx`
 * (each call in a fresh scope), instead of the context of whoever emits the event. It may be
 * async: the async store follows it.
 *
 * The bound function keeps the original as its `listener` property, the convention Node's
 * `EventEmitter` uses for `once`: `emitter.off(event, listener)` removes it by the original.
 *
 * @example
 * req.on('end', bindListener(() => log(get(requestId))));
 */
export function bindListener<A extends unknown[]>(listener: Listener<A>): BoundListener<A> {
  requireFunction(listener, 'bindListener(listener)');
  const contexts = captureBoth();
  const bound = function (this: unknown, ...args: A): unknown {
    return runInBoth(contexts, listener, this, args);
  };
  // A plain write, as Node's own `once` does it (`defineProperty` made every bound listener, one
  // per request in a server, measurably slower to create).
  (bound as { listener?: Listener<A> }).listener = listener;
  return bound as BoundListener<A>;
}
