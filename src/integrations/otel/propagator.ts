/**
 * `DContextPropagator`: the dcontext header (and the baggage bridge) as an OpenTelemetry
 * `TextMapPropagator`, so OpenTelemetry-instrumented clients and servers carry dcontext with no
 * other code. Composes with `W3CTraceContextPropagator` and `W3CBaggagePropagator` in a
 * `CompositePropagator` (put it after the baggage propagator: see `injectBaggage`).
 */
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import {
  snapshot as currentSnapshot,
  type DContextError,
  deserialize,
  isInitialized,
  type Snapshot,
  serializeToString,
} from '../../index.js';
import { OPAQUE } from '../../store/snapshot.js';
import { activeContext, snapshotIn, withSnapshot } from './active-context.js';
import { BAGGAGE_HEADER, injectBaggage, takeBaggage } from './baggage-bridge.js';
import { asError, singleHeader } from './header-errors.js';
import { installOtelHooks } from './hooks.js';
import {
  type DContextPropagatorOptions,
  decodeOptions,
  type ResolvedPropagator,
  resolvePropagator,
} from './propagator-options.js';

/**
 * Carries the dcontext context in the `x-dcontext` header (the wire format, bounded by `accept`
 * and `send` as in `dcontext/http`), and keys registered with `metadata: { baggage: '<name>' }`
 * in W3C `baggage`.
 *
 * - `inject(ctx, …)` sends the live dcontext context of the active scope, or the snapshot `ctx`
 *   carries when it came from `extract` and was not entered yet.
 * - `extract(ctx, …)` decodes the header (and the bridged baggage entries) into a snapshot kept
 *   in the returned context; `DContextManager.with` enters it. Bad input never throws: it is
 *   reported to `onError` and nothing of it is taken.
 *
 * @example
 * propagation.setGlobalPropagator(new CompositePropagator({ propagators: [
 *   new W3CTraceContextPropagator(), new W3CBaggagePropagator(), new DContextPropagator({ accept: 'all' }),
 * ] }));
 */
export class DContextPropagator implements TextMapPropagator {
  readonly #options: ResolvedPropagator;

  constructor(options?: DContextPropagatorOptions) {
    this.#options = resolvePropagator(options);
    installOtelHooks();
  }

  /** Writes the context header (and the bridged baggage entries) into `carrier`. Never throws. */
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    if (!isInitialized()) return;
    const options = this.#options;
    try {
      const sent = snapshotToSend(context);
      if (options.serialize !== undefined && !isEmpty(sent)) {
        setter.set(carrier, options.header, serializeToString(sent, options.serialize));
      }
      if (options.baggage) injectBaggage(options, context, sent, carrier, setter);
    } catch (error) {
      this.#report(asError(error, 'cannot send the context', 'ENCODE_FAILED'));
    }
  }

  /**
   * `context` with the snapshot `carrier` brings (bounded by `accept`); `context` itself when it
   * brings nothing, or when its context header is bad (reported to `onError`). Never throws.
   */
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    if (!isInitialized()) return context;
    const options = this.#options;
    const dropped: DContextError[] = [];
    let received: Snapshot | undefined;
    try {
      const header = singleHeader(getter.get(carrier, options.header), options.header);
      if (header !== undefined && header !== '') {
        received = deserialize(
          header,
          decodeOptions(options, (error) => dropped.push(error)),
        );
      }
    } catch (error) {
      // All or nothing: a bad context header brings no entries, not even bridged baggage.
      this.#report(asError(error, "cannot read the request's context"));
      return context;
    }
    for (const error of dropped) this.#report(error);
    if (options.accept === 'none') return context;
    if (options.baggage) {
      const header = getter.get(carrier, BAGGAGE_HEADER);
      received = takeBaggage(received, header, options.accept, (error) => this.#report(error));
    }
    return received === undefined ? context : withSnapshot(context, received);
  }

  /** The headers this propagator may write. */
  fields(): string[] {
    return this.#options.baggage ? [this.#options.header, BAGGAGE_HEADER] : [this.#options.header];
  }

  #report(error: DContextError): void {
    try {
      this.#options.onError(error);
    } catch (thrown) {
      // A propagator never throws out: not even an onError that does.
      process.emitWarning(`dcontext/otel onError threw: ${String(thrown)}`, {
        type: 'DContextWarning',
        code: 'DCONTEXT_OTEL_ON_ERROR',
      });
    }
  }
}

/**
 * What `inject` sends: the snapshot `context` carries when it is not the one the active scope
 * was entered with (an extracted context not entered yet), else the live context, with what
 * inner scopes wrote.
 */
function snapshotToSend(context: Context): Snapshot {
  const carried = snapshotIn(context);
  if (carried !== undefined && carried !== snapshotIn(activeContext())) return carried;
  return currentSnapshot();
}

/** Nothing to send: no scope name, no value, nothing forwarded from upstream. */
function isEmpty(sent: Snapshot): boolean {
  return (
    sent[OPAQUE] === null && sent.scopeChain.length === 0 && sent.entries().next().done === true
  );
}
