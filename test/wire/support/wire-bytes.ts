/**
 * Builds wire bytes by hand, as another sender (older, newer, or hostile) would, from the layout
 * in docs/wire-format.md - independently of src/wire's writer.
 */
import { encode } from '@msgpack/msgpack';

export interface HandEntry {
  readonly name: string;
  readonly version: number;
  /** 0 msgpack, 1 superjson, 2 custom, 3 reserved. Default 0. */
  readonly codec?: 0 | 1 | 2 | 3;
  /** The value, MessagePack-encoded for codec 0; the payload bytes as they are otherwise. */
  readonly value?: unknown;
  readonly payload?: Uint8Array;
}

function arrayHeader(length: number): number[] {
  return length < 16 ? [0x90 + length] : [0xdc, length >> 8, length & 0xff];
}

export function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The bytes of one entry: name, header, payload. */
export function entryBytes(entry: HandEntry): Uint8Array {
  const payload = entry.payload ?? encode(entry.value);
  return concat(encode(entry.name), encode(entry.version * 4 + (entry.codec ?? 0)), payload);
}

/** A whole message in format 1. */
export function wireBytes(chain: readonly string[], entries: readonly HandEntry[]): Uint8Array {
  return concat(
    [1],
    encode(chain),
    arrayHeader(entries.length * 3),
    ...entries.map((entry) => entryBytes(entry)),
  );
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex'));
}
