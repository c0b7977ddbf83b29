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

/**
 * The UTF-8 text in `bytes[start, end)`, or `undefined` when it is not valid UTF-8. ASCII, the
 * common case for names and ids, is built without the decoder (cheaper for short strings).
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) {
      try {
        return strictUtf8.decode(bytes.subarray(start, end));
      } catch {
        return undefined;
      }
    }
    text += String.fromCharCode(byte);
  }
  return text;
}
