/**
 * The record a bound emitter keeps of the wrappers it attached, per event and original listener,
 * so that removing the original removes its wrapper even when another context manager wrapped
 * ours again. Shared by `bindEmitter` and dcontext/otel's `bind`.
 */
import type { Listener } from './bind-listener.js';

type EventName = string | symbol;

/**
 * Per event, each original listener's wrappers still attached, in the order they were added.
 * Kept only for an emitter whose removal is not Node's own (see `bindEmitter`).
 */
export type Wrappers = Map<EventName, Map<Listener, Listener[]>>;

/** Records `wrapper` as attached for `listener` on `event`. */
export function remember(
  wrappers: Wrappers,
  event: EventName,
  listener: Listener,
  wrapper: Listener,
): void {
  let byListener = wrappers.get(event);
  if (byListener === undefined) wrappers.set(event, (byListener = new Map()));
  const list = byListener.get(listener);
  if (list === undefined) byListener.set(listener, [wrapper]);
  else list.push(wrapper);
}

/** Forgets `wrapper` of `listener` (the last one added when not given); returns it. */
export function forget(
  wrappers: Wrappers,
  event: EventName,
  listener: Listener,
  wrapper?: Listener,
): Listener | undefined {
  const byListener = wrappers.get(event);
  const list = byListener?.get(listener);
  if (byListener === undefined || list === undefined) return undefined;
  const at = wrapper === undefined ? list.length - 1 : list.lastIndexOf(wrapper);
  if (at === -1) return undefined;
  const [found] = list.splice(at, 1);
  if (list.length === 0) byListener.delete(listener);
  if (byListener.size === 0) wrappers.delete(event);
  return found;
}
