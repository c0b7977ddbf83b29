/** The headers an outgoing call carries, from the current context. */
import {
  isInitialized,
  type KeyRef,
  registeredKeys,
  serializeToString,
  snapshot,
  tryGet,
} from '../../index.js';
import { OPAQUE } from '../../store/snapshot.js';
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
    const id = plainValue(rid.key);
    if (id !== undefined) pairs.push([rid.header, id]);
  }
  for (const [name, key] of egress.headers) {
    const value = plainValue(key);
    if (value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

// The names of local-only keys, per registry (the list registeredKeys() returns is the registry's).
let localNames:
  | { readonly of: readonly unknown[]; readonly names: ReadonlySet<string> }
  | undefined;

/** The value of `key` as a header value; undefined when unset, unfit, or the key is local-only. */
function plainValue(key: KeyRef): string | undefined {
  if (!isInitialized()) return undefined;
  const keys = registeredKeys();
  if (localNames?.of !== keys) {
    localNames = { of: keys, names: new Set(keys.filter((k) => k.local).map((k) => k.name)) };
  }
  if (localNames.names.has(typeof key === 'string' ? key : key.name)) return undefined;
  return headerValue(tryGet(key));
}

/** Nothing to send: no scope name, no value, nothing forwarded from upstream. */
function isEmpty(current: ReturnType<typeof snapshot>): boolean {
  return (
    current[OPAQUE] === null &&
    current.scopeChain.length === 0 &&
    current.entries().next().done === true
  );
}
