/**
 * Optional integrity: a signed message is a format-1 message followed by a MessagePack `bin8` of
 * 32 bytes, the HMAC-SHA256 of every byte before it. Unsigned format-1 readers of an older
 * dcontext refuse it ("34 unexpected trailing bytes"); this one ignores the tag unless the
 * receiver passes `verifyKeys`, and then checks it before reading anything else.
 */
import { createHmac, KeyObject, timingSafeEqual } from 'node:crypto';
import { DContextError } from '../errors.js';

/** A checked key, as `createHmac` takes it. */
export type HmacKey = Uint8Array | KeyObject;

/** Bytes of the tag and of its `bin8` header. */
export const TAG_BYTES = 32;
/** The tag as it follows the entries: `c4 20` and 32 bytes. */
export const SIGNATURE_BYTES = TAG_BYTES + 2;
const MIN_KEY_BYTES = 16;

/** `key` checked (at least 16 bytes) and made ready for `createHmac`; `INVALID_ARGUMENT` else. */
export function hmacKey(key: unknown, what: string): HmacKey {
  let size: number;
  let ready: HmacKey;
  if (typeof key === 'string') {
    ready = Buffer.from(key, 'utf8');
    size = ready.length;
  } else if (key instanceof Uint8Array) {
    ready = key;
    size = key.length;
  } else if (key instanceof KeyObject && key.type === 'secret') {
    ready = key;
    size = key.symmetricKeySize ?? 0;
  } else {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `${what} must be a string, a Uint8Array or a secret KeyObject (got ${key === null ? 'null' : typeof key})`,
    );
  }
  if (size < MIN_KEY_BYTES) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `${what} is ${size} bytes; an HMAC key needs at least ${MIN_KEY_BYTES} (32 random bytes recommended)`,
    );
  }
  return ready;
}

/** The HMAC-SHA256 of `bytes[0, end)` with `key`. */
export function tagOf(key: HmacKey, bytes: Uint8Array, end: number): Buffer {
  return createHmac('sha256', key).update(bytes.subarray(0, end)).digest();
}

/** Whether `bytes` ends with something shaped like a tag (not whether it is valid). */
export function hasTagShape(bytes: Uint8Array, at: number): boolean {
  return bytes.length - at === SIGNATURE_BYTES && bytes[at] === 0xc4 && bytes[at + 1] === TAG_BYTES;
}

/**
 * Checks the tag that ends `bytes` against every key (all of them, without stopping at a match,
 * with `timingSafeEqual`), and returns where the message before it ends; `BAD_SIGNATURE` when it
 * has no tag or no key made it.
 */
export function verifySignature(bytes: Uint8Array, keys: readonly HmacKey[]): number {
  const end = bytes.length - SIGNATURE_BYTES;
  if (end < 1 || !hasTagShape(bytes, end)) {
    throw new DContextError(
      'BAD_SIGNATURE',
      'the context is not signed, and this receiver requires a signature (verifyKeys); sign it with serialize(snapshot, { signingKey })',
    );
  }
  const received = bytes.subarray(end + 2);
  let valid = false;
  for (const key of keys) {
    // The comparison comes first: every key is tried, so the time does not say which matched.
    valid = timingSafeEqual(tagOf(key, bytes, end), received) || valid;
  }
  if (!valid) {
    throw new DContextError(
      'BAD_SIGNATURE',
      'the context signature does not match any of verifyKeys; it was altered, or signed with another key',
    );
  }
  return end;
}
