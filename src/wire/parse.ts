/**
 * Reads the framing of a wire message (format byte, scope chain, entry names and headers) and
 * locates each entry's payload with the bounded pre-scan. No payload is decoded here.
 */
import { DContextError } from '../errors.js';
import { readBigEndian } from './bytes.js';
import { FORMAT_VERSION } from './format.js';
import type { WireLimits } from './limits.js';
import { decodeName } from './names.js';
import { malformed, overLimit, skipValue } from './scan.js';
import { hasTagShape } from './signature.js';

/** One entry located in the input: offsets into the message bytes. */
export interface RawEntry {
  readonly name: string;
  /** `keyVersion * 4 + codecTag`. */
  readonly header: number;
  /** Where the entry starts (its name): `bytes.subarray(start, end)` is the whole entry. */
  readonly start: number;
  /** Where its payload starts. */
  readonly payload: number;
  readonly end: number;
}

/** A parsed message: the remote scope chain and the located entries. */
export interface RawContext {
  readonly chain: string[];
  readonly entries: RawEntry[];
}

class Cursor {
  /** Strings read so far (see decodeName's `place`). */
  strings = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly limits: WireLimits,
    public pos: number,
  ) {}

  /** Reads an array header; its length must be <= `max` and fit in the remaining bytes. */
  arrayLength(max: number, what: string): number {
    const { bytes } = this;
    const at = this.pos;
    const head = this.#byte(what);
    let length: number;
    if (head >= 0x90 && head <= 0x9f) length = head - 0x90;
    else if (head === 0xdc || head === 0xdd) length = this.#length(head === 0xdc ? 2 : 4, what);
    else throw malformed(`${what} is not an array`, at);
    if (length > max) throw overLimit(`${what} has ${length} items, over the limit of ${max}`, at);
    if (length > bytes.length - this.pos) throw malformed(`${what} truncated`, at);
    return length;
  }

  string(what: string): string {
    const { bytes } = this;
    const at = this.pos;
    const head = this.#byte(what);
    let length: number;
    if (head >= 0xa0 && head <= 0xbf) length = head - 0xa0;
    else if (head >= 0xd9 && head <= 0xdb) length = this.#length(1 << (head - 0xd9), what);
    else throw malformed(`${what} is not a string`, at);
    if (length > this.limits.maxStringLength) throw overLimit(`${what} is too long`, at);
    const start = this.pos;
    const end = start + length;
    if (end > bytes.length) throw malformed(`${what} truncated`, at);
    this.pos = end;
    const text = decodeName(bytes, start, end, this.strings++);
    if (text === undefined) throw malformed(`${what} is not valid UTF-8`, at);
    return text;
  }

  /** A MessagePack unsigned integer up to 2^53 - 1. */
  uint(what: string): number {
    const at = this.pos;
    const head = this.#byte(what);
    if (head < 0x80) return head;
    if (head >= 0xcc && head <= 0xcf) {
      const value = this.#length(1 << (head - 0xcc), what);
      if (value > Number.MAX_SAFE_INTEGER) throw malformed(`${what} is out of range`, at);
      return value;
    }
    throw malformed(`${what} is not an unsigned integer`, at);
  }

  #byte(what: string): number {
    if (this.pos >= this.bytes.length) throw malformed(`${what} missing`, this.pos);
    return this.bytes[this.pos++]!;
  }

  #length(size: number, what: string): number {
    if (this.pos + size > this.bytes.length) throw malformed(`${what} truncated`, this.pos);
    const value = readBigEndian(this.bytes, this.pos, size);
    this.pos += size;
    return value;
  }
}

/** Parses the framing of `bytes`; throws `DECODE_FAILED` on anything malformed. */
export function parseContext(bytes: Uint8Array, limits: WireLimits): RawContext {
  if (bytes.length === 0) throw malformed('empty input', 0);
  const format = bytes[0]!;
  if (format !== FORMAT_VERSION) throw unsupportedFormat(bytes);
  const cursor = new Cursor(bytes, limits, 1);
  const chainLength = cursor.arrayLength(limits.maxChainLength, 'scope chain');
  const chain = new Array<string>(chainLength);
  for (let i = 0; i < chainLength; i++) chain[i] = cursor.string('scope name');

  const at = cursor.pos;
  const items = cursor.arrayLength(limits.maxEntries * 3, 'entry list');
  if (items % 3 !== 0) throw malformed('entry list length is not a multiple of 3', at);
  const entries = new Array<RawEntry>(items / 3);
  for (let i = 0; i < entries.length; i++) entries[i] = readEntry(cursor);
  // A signed message ends with its tag; without verifyKeys the receiver ignores it.
  if (cursor.pos !== bytes.length && !hasTagShape(bytes, cursor.pos)) {
    throw malformed(`${bytes.length - cursor.pos} unexpected trailing bytes`, cursor.pos);
  }
  return { chain, entries };
}

/**
 * Why a message that does not start with format byte 1 is refused. Every format starts with its
 * version as a MessagePack positive fixint, followed (in format 1, and kept so) by the scope
 * chain's array: such a start is a newer dcontext; anything else is not dcontext data at all.
 */
function unsupportedFormat(bytes: Uint8Array): DContextError {
  const format = bytes[0]!;
  const next = bytes[1];
  const array =
    next !== undefined && ((next >= 0x90 && next <= 0x9f) || next === 0xdc || next === 0xdd);
  if (format > FORMAT_VERSION && format < 0x80 && array) {
    return new DContextError(
      'DECODE_FAILED',
      `cannot deserialize context: it is in a newer dcontext wire format (${format}) than this dcontext reads (${FORMAT_VERSION}); upgrade dcontext on this side`,
    );
  }
  return new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context: the input is not dcontext wire data (it does not start with format byte ${FORMAT_VERSION} and a scope chain); check what was passed - the value of serialize() or serializeToString()`,
  );
}

function readEntry(cursor: Cursor): RawEntry {
  const start = cursor.pos;
  const name = cursor.string('key name');
  if (name.length === 0) throw malformed('empty key name', start);
  const header = cursor.uint('entry header');
  const payload = cursor.pos;
  const end = skipValue(cursor.bytes, payload, cursor.bytes.length, cursor.limits);
  cursor.pos = end;
  return { name, header, start, payload, end };
}

/** Locates the parts of one entry held on its own (an opaque entry's `raw` bytes). */
export function parseEntry(raw: Uint8Array, limits: WireLimits): RawEntry {
  const cursor = new Cursor(raw, limits, 0);
  const entry = readEntry(cursor);
  if (cursor.pos !== raw.length) throw malformed('unexpected trailing bytes', cursor.pos);
  return entry;
}
