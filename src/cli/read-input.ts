import { DContextError } from '../errors.js';

const HEX = /^(?:0x)?[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
/** The command reads at most this much text (the structure limits still apply after). */
const MAX_INPUT_CHARS = 16 * 1024 * 1024;

/**
 * The bytes of a header value given as hex (`01 92 …`, `0x0192…`) or base64url (what
 * `serializeToString` writes; standard base64 is accepted too). The two never look alike: the
 * base64url form of format 1 starts with `AQ`-`AT`, and `Q`-`T` are not hex digits.
 */
export function readInput(text: string): Uint8Array {
  if (text.length > MAX_INPUT_CHARS) {
    throw new DContextError('CONTEXT_TOO_LARGE', `input of ${text.length} characters is too long`);
  }
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) throw new DContextError('DECODE_FAILED', 'empty input');
  if (HEX.test(compact) && compact.length % 2 === 0) {
    return new Uint8Array(Buffer.from(compact.replace(/^0x/, ''), 'hex'));
  }
  if (BASE64.test(compact) && compact.replace(/=+$/, '').length % 4 !== 1) {
    return new Uint8Array(Buffer.from(compact, 'base64url'));
  }
  throw new DContextError(
    'DECODE_FAILED',
    'input is neither hex nor base64url; pass the header value as serializeToString() wrote it, or its bytes in hex',
  );
}
