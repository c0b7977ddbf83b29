import type { OutgoingMessage } from 'node:http';
import { describe, invalid } from './check.js';
import { type Egress, resolveEgress } from './egress-options.js';
import { outgoingHeaders } from './outgoing.js';
import type { EgressOptions } from './types.js';

const DEFAULT_EGRESS = resolveEgress(undefined, 'injectHeaders');
// Options are usually one object made at startup: resolved (and checked) once per object.
const resolved = new WeakMap<object, Egress>();

function egressOf(options: EgressOptions | undefined): Egress {
  if (options === undefined || options === null) return DEFAULT_EGRESS;
  let egress = resolved.get(options);
  if (egress === undefined) {
    egress = resolveEgress(options, 'injectHeaders');
    resolved.set(options, egress);
  }
  return egress;
}

/** A plain header object, as `fetch`, `http.request` and most clients take. */
export type HeaderRecord = Record<string, string | readonly string[] | number | undefined>;

/** What {@link injectHeaders} writes into. */
export type HeaderTarget = HeaderRecord | Headers | OutgoingMessage;

function isOutgoing(target: object): target is OutgoingMessage {
  return typeof (target as OutgoingMessage).setHeader === 'function';
}

function hasKey(record: HeaderRecord, lowerName: string): boolean {
  for (const name of Object.keys(record)) {
    if (name.toLowerCase() === lowerName && record[name] !== undefined) return true;
  }
  return false;
}

/** Adds `pairs` to `target`, leaving any header it already has (case-insensitive) as it is. */
export function addHeaders<T extends HeaderTarget>(target: T, pairs: [string, string][]): T {
  if (target instanceof Headers) {
    for (const [name, value] of pairs) if (!target.has(name)) target.set(name, value);
  } else if (isOutgoing(target)) {
    if (target.headersSent) return target;
    for (const [name, value] of pairs) if (!target.hasHeader(name)) target.setHeader(name, value);
  } else {
    const record = target as HeaderRecord;
    for (const [name, value] of pairs) if (!hasKey(record, name)) record[name] = value;
  }
  return target;
}

/**
 * Adds the current context's headers to `headers` and returns it: the context header (bounded
 * by `send`), the request id and the mapped plain headers (see {@link EgressOptions}). Works on a
 * plain object (a new one when omitted), a `Headers`, or an `http.OutgoingMessage` such as a
 * `ClientRequest` (through `setHeader`, before the headers are sent). A header already there is
 * left as it is. Local-only keys never leave (not even through a mapped plain header). `to` does not apply (there is no URL here).
 *
 * @example
 * http.request(url, { headers: injectHeaders({ accept: 'application/json' }) });
 */
export function injectHeaders(): HeaderRecord;
export function injectHeaders<T extends HeaderTarget>(
  headers: T,
  options?: EgressOptions,
): T extends Headers | OutgoingMessage ? T : T & HeaderRecord;
export function injectHeaders(headers: HeaderTarget = {}, options?: EgressOptions): HeaderTarget {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw invalid(
      `injectHeaders takes a header object, a Headers or an OutgoingMessage (got ${describe(headers)})`,
    );
  }
  return addHeaders(headers, outgoingHeaders(egressOf(options)));
}
