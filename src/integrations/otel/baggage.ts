/**
 * The W3C `baggage` header (https://www.w3.org/TR/baggage/), read and written within its limits
 * both ways: at most 64 list members and 8,192 bytes in all. A member over 4,096 bytes, one that
 * would take the header past 8,192 bytes, and one that does not parse are skipped, never a throw
 * (the limits OpenTelemetry's W3CBaggagePropagator applies per member and in all).
 */

/** The W3C limits this module keeps to, both ways. */
export const BAGGAGE_LIMITS = {
  /** List members in one header. */
  maxEntries: 64,
  /** Bytes of the whole header (members joined by `,`). */
  maxBytes: 8192,
  /** Bytes of one member (`name=value;properties`). */
  maxEntryBytes: 4096,
} as const;

/** An RFC 7230 token: what a baggage name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** W3C `baggage-octet`s: printable ASCII but space, `"`, `,`, `;` and `\` (others percent-encoded). */
const VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/** One baggage entry; `properties` is the raw text after the value's `;`, kept as it is. */
export interface BaggagePair {
  readonly name: string;
  readonly value: string;
  readonly properties?: string;
}

/** Whether `name` can be a baggage name. */
export function isBaggageName(name: unknown): name is string {
  return typeof name === 'string' && TOKEN.test(name);
}

/**
 * The header value for `pairs`, in order, within the limits: a pair whose name is not a token,
 * whose member is over 4,096 bytes or would take the header past 8,192 bytes is skipped; pairs
 * after the 64th are dropped. A name given twice is written once (the first). Undefined when
 * nothing is left.
 */
export function encodeBaggage(pairs: Iterable<BaggagePair>): string | undefined {
  const members: string[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const { name, value, properties } of pairs) {
    if (members.length === BAGGAGE_LIMITS.maxEntries) break;
    if (!isBaggageName(name) || seen.has(name)) continue;
    let member = `${name}=${encodeURIComponent(value)}`;
    if (properties !== undefined && properties !== '') member += `;${properties}`;
    // All ASCII after encodeURIComponent (properties are checked the same way): length is bytes.
    if (member.length > BAGGAGE_LIMITS.maxEntryBytes || !/^[\x20-\x7e]*$/.test(member)) continue;
    const added = (members.length === 0 ? 0 : 1) + member.length;
    if (bytes + added > BAGGAGE_LIMITS.maxBytes) continue;
    bytes += added;
    seen.add(name);
    members.push(member);
  }
  return members.length === 0 ? undefined : members.join(',');
}

/**
 * The entries of a received header (untrusted), name to decoded value, within the limits: a
 * member that does not parse (name not a token, a value with characters baggage cannot hold, bad
 * percent-encoding) or is over 4,096 bytes is skipped; members are taken in order while the
 * taken ones stay within 64 members and 8,192 bytes. A name given twice keeps its first value.
 * Properties are ignored. Never throws.
 */
export function parseBaggage(header: string): Map<string, string> {
  const entries = new Map<string, string>();
  let bytes = 0;
  let taken = 0;
  let start = 0;
  while (start <= header.length && taken < BAGGAGE_LIMITS.maxEntries) {
    let end = header.indexOf(',', start);
    if (end === -1) end = header.length;
    const member = header.slice(start, end).trim();
    start = end + 1;
    if (member === '' || member.length > BAGGAGE_LIMITS.maxEntryBytes) continue;
    const added = (taken === 0 ? 0 : 1) + member.length;
    if (bytes + added > BAGGAGE_LIMITS.maxBytes) continue;
    const pair = parseMember(member);
    if (pair === undefined) continue;
    bytes += added;
    taken++;
    if (!entries.has(pair[0])) entries.set(pair[0], pair[1]);
  }
  return entries;
}

function parseMember(member: string): [string, string] | undefined {
  const semicolon = member.indexOf(';');
  const pair = semicolon === -1 ? member : member.slice(0, semicolon);
  const equals = pair.indexOf('=');
  if (equals === -1) return undefined;
  const name = pair.slice(0, equals).trim();
  const raw = pair.slice(equals + 1).trim();
  if (!TOKEN.test(name) || !VALUE.test(raw)) return undefined;
  try {
    return [name, decodeURIComponent(raw)];
  } catch {
    return undefined; // a lone '%' or bytes that are not UTF-8
  }
}
