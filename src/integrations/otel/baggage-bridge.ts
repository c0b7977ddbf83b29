/**
 * The baggage bridge: keys registered with `metadata: { baggage: '<name>' }` written to and read
 * from the W3C `baggage` header (within its limits, see baggage.ts), for `DContextPropagator`.
 */
import { type Context, propagation, type TextMapSetter } from '@opentelemetry/api';
import { DContextError, Snapshot } from '../../index.js';
import { type BaggagePair, encodeBaggage, parseBaggage } from './baggage.js';
import { baggageKeys } from './baggage-keys.js';
import { asError } from './header-errors.js';
import { inKeyList, type KeyList, type ResolvedPropagator } from './propagator-options.js';

/** The W3C baggage header. */
export const BAGGAGE_HEADER = 'baggage';

/**
 * `received` with the accepted bridged keys the baggage header holds. The context header wins:
 * a key it set is not taken from baggage. A value the key's `validate` refuses is reported
 * and skipped.
 */
export function takeBaggage(
  received: Snapshot | undefined,
  value: string | string[] | undefined,
  accept: 'none' | 'all' | KeyList,
  report: (error: DContextError) => void,
): Snapshot | undefined {
  const keys = baggageKeys();
  if (keys.length === 0 || value === undefined) return received;
  const entries = parseBaggage(Array.isArray(value) ? value.join(',') : value);
  let result = received;
  for (const { key, name } of keys) {
    const entry = entries.get(name);
    if (entry === undefined || received?.has(key) === true) continue;
    if (!inKeyList(accept, key)) {
      report(
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
      report(asError(error, `baggage '${name}' is not a usable '${key}'`));
    }
  }
  return result;
}

/**
 * Writes the bridged keys that have a string value into `baggage`, then OpenTelemetry's own
 * entries of `context` (the first to be cut by the limits): the header is rewritten whole (a
 * `W3CBaggagePropagator` before this one in a composite wrote those entries only). Nothing is written when no bridged key has a value,
 * so OpenTelemetry's header is then left as it is. On a name in both, the dcontext value wins.
 */
export function injectBaggage(
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
