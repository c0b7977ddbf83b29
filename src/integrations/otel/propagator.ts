/**
 * `DContextPropagator`: the dcontext header (and the baggage bridge) as an OpenTelemetry
 * `TextMapPropagator`, so OpenTelemetry-instrumented clients and servers carry dcontext with no
 * other code. Composes with `W3CTraceContextPropagator` and `W3CBaggagePropagator` in a
 * `CompositePropagator` (put it after the baggage propagator: see `injectBaggage`).
 */
import {
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import {
  snapshot as currentSnapshot,
  DContextError,
  deserialize,
  isDContextError,
  isInitialized,
  Snapshot,
  serializeToString,
} from '../../index.js';
import { OPAQUE } from '../../store/snapshot.js';
import { activeContext, snapshotIn, withSnapshot } from './active-context.js';
import { type BaggagePair, encodeBaggage, parseBaggage } from './baggage.js';
import { baggageKeys } from './baggage-keys.js';
import { installOtelHooks } from './hooks.js';
import {
  type DContextPropagatorOptions,
  decodeOptions,
  inKeyList,
  type ResolvedPropagator,
  resolvePropagator,
} from './propagator-options.js';

const BAGGAGE_HEADER = 'baggage';

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
      received = this.#withBaggage(received, getter.get(carrier, BAGGAGE_HEADER));
    }
    return received === undefined ? context : withSnapshot(context, received);
  }

  /** The headers this propagator may write. */
  fields(): string[] {
    return this.#options.baggage ? [this.#options.header, BAGGAGE_HEADER] : [this.#options.header];
  }

  /**
   * `received` with the accepted bridged keys the baggage header holds. The context header wins:
   * a key it set is not taken from baggage. A value the key's `validate` refuses is reported
   * and skipped.
   */
  #withBaggage(
    received: Snapshot | undefined,
    value: string | string[] | undefined,
  ): Snapshot | undefined {
    const keys = baggageKeys();
    if (keys.length === 0 || value === undefined) return received;
    const entries = parseBaggage(Array.isArray(value) ? value.join(',') : value);
    let result = received;
    for (const { key, name } of keys) {
      const entry = entries.get(name);
      if (entry === undefined || received?.has(key) === true) continue;
      if (!inKeyList(this.#options.accept, key)) {
        this.#report(
          new DContextError(
            'NOT_ACCEPTED',
            `'${key}' arrived in baggage '${name}' but accept does not name it; it was dropped`,
            key,
          ),
        );
        continue;
      }
      try {
        result = (result ?? Snapshot.empty()).with(key, entry);
      } catch (error) {
        this.#report(asError(error, `baggage '${name}' is not a usable '${key}'`));
      }
    }
    return result;
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

/**
 * Writes the bridged keys that have a string value into `baggage`, after OpenTelemetry's own
 * entries of `context`: the header is rewritten whole (a `W3CBaggagePropagator` before this one
 * in a composite wrote those entries only). Nothing is written when no bridged key has a value,
 * so OpenTelemetry's header is then left as it is. On a name in both, the dcontext value wins.
 */
function injectBaggage(
  options: ResolvedPropagator,
  context: Context,
  sent: Snapshot,
  carrier: unknown,
  setter: TextMapSetter,
): void {
  const pairs: BaggagePair[] = [];
  for (const { key, name } of baggageKeys()) {
    if (!inKeyList(options.send, key)) continue;
    let value: unknown;
    try {
      value = sent.has(key) ? sent.get(key) : undefined;
    } catch {
      continue; // an entry from upstream that does not decode: not sent
    }
    if (typeof value === 'string') pairs.push({ name, value });
  }
  if (pairs.length === 0) return;
  const own = propagation.getBaggage(context);
  if (own !== undefined) {
    for (const [name, entry] of own.getAllEntries()) {
      const properties = entry.metadata?.toString();
      pairs.push(
        properties === undefined
          ? { name, value: entry.value }
          : { name, value: entry.value, properties },
      );
    }
  }
  const header = encodeBaggage(pairs);
  if (header !== undefined) setter.set(carrier, BAGGAGE_HEADER, header);
}

/** A header sent once; a repeat (an array, or values Node joined with ', ') is refused. */
function singleHeader(value: string | string[] | undefined, name: string): string | undefined {
  let text = value;
  if (Array.isArray(text)) {
    if (text.length > 1) throw sentTwice(name);
    text = text[0];
  }
  if (typeof text !== 'string') return undefined;
  // A context header holds base64 only: a comma means two were joined.
  if (text.includes(',')) throw sentTwice(name);
  return text;
}

function sentTwice(name: string): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `the '${name}' header was sent more than once; send it once`,
  );
}

function asError(
  error: unknown,
  what: string,
  code: 'DECODE_FAILED' | 'ENCODE_FAILED' = 'DECODE_FAILED',
): DContextError {
  if (isDContextError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DContextError(code, `${what}: ${detail}`, undefined, { cause: error });
}

/** Nothing to send: no scope name, no value, nothing forwarded from upstream. */
function isEmpty(sent: Snapshot): boolean {
  return (
    sent[OPAQUE] === null && sent.scopeChain.length === 0 && sent.entries().next().done === true
  );
}
