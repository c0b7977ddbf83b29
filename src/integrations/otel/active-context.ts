/**
 * The OpenTelemetry `Context` a dcontext frame carries (its `foreign` context), and the dcontext
 * snapshot an OpenTelemetry `Context` may carry (put there by `DContextPropagator.extract`).
 */
import { type Context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { Snapshot } from '../../index.js';
import { activeForeign } from '../../store/foreign.js';

/**
 * A context entered through a disabled manager: its callback still runs in it (as with
 * OpenTelemetry's own managers), while contexts entered before `disable()` read as the root.
 */
export class EnteredWhileDisabled {
  constructor(readonly context: Context) {}
}

/** The OpenTelemetry context in a frame's `foreign` field (null: none). */
export function contextOf(foreign: unknown, enabled = true): Context | undefined {
  if (foreign === null || foreign === undefined) return undefined;
  if (foreign instanceof EnteredWhileDisabled) return foreign.context;
  return enabled ? (foreign as Context) : undefined;
}

/** The OpenTelemetry context of the active dcontext scope, whatever manager is installed. */
export function activeContext(): Context {
  return contextOf(activeForeign()) ?? ROOT_CONTEXT;
}

/** Where an extracted dcontext snapshot is kept in an OpenTelemetry `Context`. */
const SNAPSHOT_KEY = createContextKey('dcontext snapshot');

/** The dcontext snapshot `context` carries, or undefined. */
export function snapshotIn(context: Context | undefined): Snapshot | undefined {
  // `getValue` guarded: OpenTelemetry's own tests enter plain strings as contexts.
  const value =
    typeof context?.getValue === 'function' ? context.getValue(SNAPSHOT_KEY) : undefined;
  return value instanceof Snapshot ? value : undefined;
}

/**
 * `context` carrying `snapshot`: `DContextManager.with` enters its values (unless the active
 * context carries the same snapshot already), and `DContextPropagator.inject` sends it.
 */
export function withSnapshot(context: Context, snapshot: Snapshot): Context {
  return context.setValue(SNAPSHOT_KEY, snapshot);
}
