/**
 * The two primitive reads of the wire format, written once: big-endian unsigned integers (lengths,
 * MessagePack uints) and strict UTF-8 text.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The big-endian unsigned integer of `size` bytes at `at` (bounds checked by the caller). */
export function readBigEndian(bytes: Uint8Array, at: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[at + i]!;
  return value;
}

/** Longer text goes to the decoder at once: cheaper than building it from characters. */
const SHORT_TEXT = 16;

/**
 * The UTF-8 text in `bytes[start, end)`, or `undefined` when it is not valid UTF-8. Short ASCII,
 * the common case for names and ids, is built without the decoder, four characters per step: one
 * character per step cost a string concatenation each (~60 instructions, Node 24).
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start > SHORT_TEXT) return strictDecode(bytes, start, end);
  let text = '';
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    const c = bytes[i + 2]!;
    const d = bytes[i + 3]!;
    if ((a | b | c | d) >= 0x80) return strictDecode(bytes, start, end);
    text += String.fromCharCode(a, b, c, d);
  }
  for (; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return strictDecode(bytes, start, end);
    text += String.fromCharCode(byte);
  }
  return text;
}

function strictDecode(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return strictUtf8.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}
