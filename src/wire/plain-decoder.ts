/**
 * Reads plain MessagePack (nil, booleans, numbers, valid UTF-8 strings, arrays, maps with string
 * keys) into exactly what @msgpack/msgpack's decoder returns for it, or returns `NOT_PLAIN` so
 * the caller uses that decoder (binary, extensions, other map keys, `__proto__`, invalid UTF-8,
 * nesting past 64). Typical context values are plain, and skipping the general decoder's setup
 * makes a lazy read several times cheaper. The input was bounded by the pre-scan; recursion is
 * capped here as well.
 */
import { readBigEndian, readUtf8 } from './bytes.js';

export const NOT_PLAIN: unique symbol = Symbol('not plain MessagePack');

const MAX_PLAIN_DEPTH = 64;
const scratch = new DataView(new ArrayBuffer(8));

/** Position after the value read by the last successful `readPlain`. */
let position = 0;

/** The plain value at `bytes[start]`, which must end exactly at `end`; or `NOT_PLAIN`. */
export function decodePlain(bytes: Uint8Array, start: number, end: number): unknown {
  position = start;
  const value = read(bytes, 0);
  return value !== NOT_PLAIN && position === end ? value : NOT_PLAIN;
}

function view(bytes: Uint8Array, at: number, size: number): DataView {
  for (let i = 0; i < size; i++) scratch.setUint8(i, bytes[at + i]!);
  return scratch;
}

function text(bytes: Uint8Array, at: number, length: number): string | typeof NOT_PLAIN {
  return readUtf8(bytes, at, at + length) ?? NOT_PLAIN;
}

function read(bytes: Uint8Array, depth: number): unknown {
  const at = position;
  const head = bytes[at]!;
  position = at + 1;
  if (head < 0x80) return head;
  if (head >= 0xe0) return head - 0x100;
  let length: number;
  let map = false;
  if (head < 0x90) {
    map = true;
    length = head - 0x80;
  } else if (head < 0xa0) length = head - 0x90;
  else if (head < 0xc0) {
    position = at + 1 + (head - 0xa0);
    return text(bytes, at + 1, head - 0xa0);
  } else {
    switch (head) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcc:
      case 0xcd:
      case 0xce: {
        const size = 1 << (head - 0xcc);
        position = at + 1 + size;
        return readBigEndian(bytes, at + 1, size);
      }
      case 0xcf:
        position = at + 9;
        return view(bytes, at + 1, 8).getUint32(0) * 0x100000000 + scratch.getUint32(4);
      case 0xd0:
        position = at + 2;
        return view(bytes, at + 1, 1).getInt8(0);
      case 0xd1:
        position = at + 3;
        return view(bytes, at + 1, 2).getInt16(0);
      case 0xd2:
        position = at + 5;
        return view(bytes, at + 1, 4).getInt32(0);
      case 0xd3:
        position = at + 9;
        return view(bytes, at + 1, 8).getInt32(0) * 0x100000000 + scratch.getUint32(4);
      case 0xca:
        position = at + 5;
        return view(bytes, at + 1, 4).getFloat32(0);
      case 0xcb:
        position = at + 9;
        return view(bytes, at + 1, 8).getFloat64(0);
      case 0xd9:
      case 0xda:
      case 0xdb: {
        const size = 1 << (head - 0xd9);
        const byteLength = readBigEndian(bytes, at + 1, size);
        position = at + 1 + size + byteLength;
        return text(bytes, at + 1 + size, byteLength);
      }
      case 0xdc:
      case 0xdd:
      case 0xde:
      case 0xdf: {
        const size = head === 0xdc || head === 0xde ? 2 : 4;
        map = head >= 0xde;
        length = readBigEndian(bytes, at + 1, size);
        position = at + 1 + size;
        break;
      }
      default:
        return NOT_PLAIN;
    }
  }
  if (length === 0) return map ? {} : [];
  if (depth >= MAX_PLAIN_DEPTH) return NOT_PLAIN;
  if (!map) {
    const array = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const item = read(bytes, depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      array[i] = item;
    }
    return array;
  }
  const object: Record<string, unknown> = {};
  for (let i = 0; i < length; i++) {
    const key = read(bytes, depth + 1);
    if (typeof key !== 'string' || key === '__proto__') return NOT_PLAIN;
    const value = read(bytes, depth + 1);
    if (value === NOT_PLAIN) return NOT_PLAIN;
    object[key] = value;
  }
  return object;
}
