/** The headers an outgoing call carries, from the current context. */
import { serializeToString, snapshot, tryGet } from '../../index.js';
import type { Egress } from './egress-options.js';

/** What may go in a header value: visible ASCII, spaces and tabs inside (no CR/LF, no controls). */
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/;

function headerValue(value: unknown): string | undefined {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
  return text !== undefined && HEADER_VALUE.test(text) ? text : undefined;
}

/**
 * `[name, value]` pairs for the current context: the context header (unless nothing is in the
 * context), then the request id and the mapped plain headers that have a value. A plain value
 * that is not a string, number or boolean, or holds characters a header cannot carry, is not
 * sent. Throws what `serialize` throws (`CONTEXT_TOO_LARGE`, `ENCODE_FAILED`).
 */
export function outgoingHeaders(egress: Egress): [string, string][] {
  const pairs: [string, string][] = [];
  if (egress.serialize !== undefined) {
    const current = snapshot();
    if (!isEmpty(current)) {
      pairs.push([egress.header, serializeToString(current, egress.serialize)]);
    }
  }
  const rid = egress.requestId;
  if (rid !== undefined) {
    const id = headerValue(tryGet(rid.key));
    if (id !== undefined) pairs.push([rid.header, id]);
  }
  for (const [name, key] of egress.headers) {
    const value = headerValue(tryGet(key));
    if (value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

/** Nothing to send: no scope name, no value, nothing forwarded from upstream. */
function isEmpty(current: ReturnType<typeof snapshot>): boolean {
  return (
    current.opaque === null &&
    current.scopeChain.length === 0 &&
    current.entries().next().done === true
  );
}
