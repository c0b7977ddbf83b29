/**
 * The bounded pre-scan: walks the MessagePack structure of a value without decoding it, checking
 * every declared length against the limits and against the bytes that remain. It uses an explicit
 * counter stack, never recursion, so hostile nesting cannot exhaust the call stack (a stack
 * overflow under async hooks kills Node uncatchably).
 */
import { DContextError } from '../errors.js';
import { readBigEndian } from './bytes.js';
import type { WireLimits } from './limits.js';

/** The `DECODE_FAILED` error for malformed bytes at `offset`. */
export function malformed(problem: string, offset: number): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context: ${problem} at byte ${offset}; the input is not dcontext wire data, or it was truncated or altered`,
  );
}

/** The `DECODE_FAILED` error for input that breaks a {@link WireLimits} bound at `offset`. */
export function overLimit(problem: string, offset: number): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `cannot deserialize context: ${problem} at byte ${offset}; the input breaks a decoding limit (pass larger limits to deserialize() if the sender is trusted)`,
  );
}

// Items still to read in each enclosing container. Module-level scratch: the scan runs no user
// code, so it is never re-entered.
const pendingStack: number[] = [];

/**
 * The offset just past the MessagePack value that starts at `pos`, or a `DECODE_FAILED` error
 * when it is truncated, uses the unused type byte 0xc1, or breaks a limit.
 */
export function skipValue(bytes: Uint8Array, pos: number, end: number, limits: WireLimits): number {
  let depth = 0;
  let pending = 1;
  for (;;) {
    if (pending === 0) {
      if (depth === 0) return pos;
      pending = pendingStack[--depth]!;
      continue;
    }
    pending--;
    if (pos >= end) throw malformed('value truncated', pos);
    const head = bytes[pos]!;
    const at = pos++;
    // Fixed-size scalars: positive and negative fixint, nil, false, true.
    if (head < 0x80 || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) continue;
    let items = -1; // children of a container, or -1 for a leaf
    let skip = 0; // bytes of a leaf after its header
    let length = -1; // declared length of a container (elements or pairs) or of a str/bin/ext
    if (head < 0x90) items = (length = head - 0x80) * 2;
    else if (head < 0xa0) items = length = head - 0x90;
    else if (head < 0xc0) skip = length = head - 0xa0;
    else {
      const size = LENGTH_SIZE[head - 0xc0]!;
      if (size > 0) {
        if (pos + size > end) throw malformed('length truncated', at);
        length = readBigEndian(bytes, pos, size);
        pos += size;
        if (head >= 0xdc)
          items = head >= 0xde ? length * 2 : length; // array/map 16/32
        else skip = head >= 0xc7 && head <= 0xc9 ? length + 1 : length; // ext has a type byte
      } else {
        skip = FIXED_SIZE[head - 0xc0]!;
        if (skip < 0) throw malformed(`invalid type byte 0x${head.toString(16)}`, at);
      }
    }
    if (items >= 0 && length > limits.maxCollectionLength) {
      throw overLimit(`collection of ${length} elements over the limit`, at);
    }
    if (items < 0 && length > limits.maxStringLength) {
      throw overLimit(`string or binary of ${length} bytes over the limit`, at);
    }
    if (items < 0) {
      if (skip > end - pos) throw malformed('value truncated', at);
      pos += skip;
      continue;
    }
    if (items === 0) continue;
    // Every item takes at least one byte: this bounds what a decoder would allocate.
    if (items > end - pos) {
      throw malformed(`container declares ${items} items but fewer bytes remain`, at);
    }
    if (depth >= limits.maxDepth) throw overLimit(`nesting deeper than ${limits.maxDepth}`, at);
    pendingStack[depth++] = pending;
    pending = items;
  }
}

// Indexed by type byte - 0xc0: size of the big-endian length field (0 = none).
// biome-ignore format: one row per 16 type bytes
const LENGTH_SIZE = [
  0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 0, 0, 0, 0, 0, 0, // c0-cf: bin8/16/32 c4-c6, ext8/16/32 c7-c9
  0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 2, 4, 2, 4, // d0-df: str8/16/32 d9-db, array dc-dd, map de-df
];
// Indexed by type byte - 0xc0: bytes after the type byte for fixed-size types (-1 = invalid).
// biome-ignore format: one row per 16 type bytes
const FIXED_SIZE = [
  0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8, // c0-cf: c1 never used; float32/64, uint8-64
  1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0, // d0-df: int8-64, fixext 1/2/4/8/16 (+1 type)
];
