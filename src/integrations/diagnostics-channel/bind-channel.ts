import * as diagnostics from 'node:diagnostics_channel';
// Internal modules rather than '../../index.js': this entry then bundles the store alone, not the
// wire format.
import { causeText, DContextError } from '../../errors.js';
import { runtime } from '../../internal/runtime.js';
import { unsupportedRuntime } from '../../internal/unsupported.js';
import type { Frame } from '../../store/frame-shape.js';
import { childFrameOfSnapshot, childFrameWith } from '../../store/scope-frame.js';
import { Snapshot } from '../../store/snapshot.js';

/**
 * What a transform returns for one published operation: values keyed by key name (set in the
 * operation's new scope), a dcontext `Snapshot` or an `AsyncContext.Snapshot` (the operation's
 * scope then holds that context), or nothing (a new scope with the caller's values).
 */
export type ChannelScope =
  | Readonly<Record<string, unknown>>
  | Snapshot
  | { toContextSnapshot(): Snapshot }
  | null
  | undefined;

/** Options of {@link bindChannel}. */
export interface BindChannelOptions<M> {
  /** The name of each operation's scope in the scope chain, e.g. `'undici:request'`. */
  name?: string;
  /**
   * Called when the transform throws or returns values dcontext refuses; the operation then runs
   * with the caller's context, in an unnamed child scope. Default: a process warning (`DCONTEXT_CHANNEL_TRANSFORM`).
   */
  onError?: (error: unknown, message: M) => void;
}

/** A diagnostics_channel `Channel` or `TracingChannel` (structural: any runtime's). */
interface BindableChannel {
  bindStore(store: unknown, transform?: (message: never) => unknown): void;
  unbindStore(store: unknown): boolean;
}
interface TracingChannelLike {
  readonly start: BindableChannel;
}

// Channels bound to dcontext's store, so a second binding is refused rather than replacing the
// first one's transform (diagnostics_channel keeps one transform per store). Process-wide, like
// the store itself: the ESM and CommonJS builds loaded side by side bind the same store.
const BOUND = Symbol.for('dcontext.diagnostics-channel.bound');
const bound: WeakSet<object> = ((globalThis as { [BOUND]?: WeakSet<object> })[BOUND] ??=
  new WeakSet<object>());

/**
 * Runs every operation published on `channel` in a new child scope of the caller's, named
 * `options.name`, holding what `transform(message)` returns. Returns a function that unbinds it.
 *
 * `channel` is a `TracingChannel` (or its name): its store is bound to the `start` channel, so
 * the scope covers `traceSync`, `tracePromise` and `traceCallback` operations from start to end,
 * and everything they schedule. A plain `Channel` works for publishers that call `runStores`.
 * A transform that throws is reported (`options.onError`), never thrown into the operation,
 * which then runs with the caller's context (in an unnamed child scope: its writes stay inside). Throws `CONFLICT` when the channel is bound already,
 * `UNSUPPORTED_RUNTIME` when the runtime's diagnostics_channel cannot bind stores.
 *
 * @example
 * const unbind = bindChannel(tracingChannel('db:query'), (message) => ({ query_id: message.id }), { name: 'db:query' });
 */
export function bindChannel<M extends object>(
  channel: diagnostics.TracingChannel<unknown, M> | diagnostics.Channel<unknown, M> | string,
  transform: (message: M) => ChannelScope,
  options?: BindChannelOptions<M> | null,
): () => void {
  const target = storeChannel(channel);
  if (typeof transform !== 'function') {
    throw new DContextError('INVALID_ARGUMENT', 'bindChannel(channel, transform) needs a function');
  }
  const { name, onError } = checkOptions<M>(options);
  if (bound.has(target)) {
    throw new DContextError(
      'CONFLICT',
      'bindChannel: this channel is bound already; call the function the first bindChannel returned before binding it again',
    );
  }
  const storeTransform = (message: M): Frame => {
    try {
      return scopeFrame(transform(message), name);
    } catch (error) {
      report(onError, error, message);
      return childFrameWith(undefined, undefined); // the caller's values; its writes stay inside
    }
  };
  target.bindStore(runtime.als, storeTransform as (message: never) => unknown);
  bound.add(target);
  let unbound = false;
  return () => {
    if (unbound) return;
    unbound = true;
    target.unbindStore(runtime.als);
    bound.delete(target);
  };
}

/** The frame for what a transform returned. */
function scopeFrame(result: ChannelScope, name: string | undefined): Frame {
  if (result instanceof Snapshot) return childFrameOfSnapshot(result, name);
  if (
    typeof result === 'object' &&
    result !== null &&
    typeof (result as { toContextSnapshot?: unknown }).toContextSnapshot === 'function'
  ) {
    const snapshot = (result as { toContextSnapshot(): unknown }).toContextSnapshot();
    if (snapshot instanceof Snapshot) return childFrameOfSnapshot(snapshot, name);
  }
  return childFrameWith(name, result as Readonly<Record<string, unknown>> | null | undefined);
}

function report<M>(
  onError: ((error: unknown, message: M) => void) | undefined,
  error: unknown,
  message: M,
): void {
  if (onError !== undefined) {
    try {
      onError(error, message);
      return;
    } catch (thrown) {
      error = thrown; // reported below: an onError that throws must not break the operation either
    }
  }
  process.emitWarning(
    `dcontext: a bindChannel transform failed; the operation ran in the caller's scope: ${causeText(error)}`,
    { type: 'DContextWarning', code: 'DCONTEXT_CHANNEL_TRANSFORM' },
  );
}

/** The channel whose store is bound: a tracing channel's `start`, or the channel itself. */
function storeChannel(channel: unknown): BindableChannel {
  let target: unknown = channel;
  if (typeof channel === 'string') {
    if (typeof diagnostics.tracingChannel !== 'function') {
      throw unsupported('diagnostics_channel.tracingChannel');
    }
    target = diagnostics.tracingChannel(channel).start;
  } else if (typeof channel === 'object' && channel !== null && 'start' in channel) {
    target = (channel as TracingChannelLike).start;
  }
  if (typeof target !== 'object' || target === null) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      'bindChannel(channel, transform) needs a TracingChannel, a Channel or a tracing channel name',
    );
  }
  const candidate = target as Partial<BindableChannel> & { subscribe?: unknown };
  if (typeof candidate.subscribe !== 'function') {
    // Not a channel at all (every runtime's Channel has subscribe): the caller's mistake.
    throw new DContextError(
      'INVALID_ARGUMENT',
      'bindChannel(channel, transform) needs a TracingChannel, a Channel or a tracing channel name',
    );
  }
  if (typeof candidate.bindStore !== 'function' || typeof candidate.unbindStore !== 'function') {
    throw unsupported('diagnostics_channel Channel.bindStore');
  }
  return candidate as BindableChannel;
}

function unsupported(feature: string): DContextError {
  return unsupportedRuntime(feature, 'bindChannel', 'run the operation inside scope() instead');
}

function checkOptions<M>(options: BindChannelOptions<M> | null | undefined): {
  name: string | undefined;
  onError: ((error: unknown, message: M) => void) | undefined;
} {
  if (options === undefined || options === null) return { name: undefined, onError: undefined };
  if (typeof options !== 'object') {
    throw new DContextError('INVALID_ARGUMENT', 'bindChannel options must be an object');
  }
  const { name, onError } = options;
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      'bindChannel: options.name must be a non-empty string',
    );
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new DContextError('INVALID_ARGUMENT', 'bindChannel: options.onError must be a function');
  }
  return { name, onError };
}
