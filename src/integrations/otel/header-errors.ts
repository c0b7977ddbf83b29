/** Reading the context header of a carrier, and the errors the propagator reports. */
import { DContextError, isDContextError } from '../../index.js';

/** A header sent once; a repeat (an array, or values Node joined with ', ') is refused. */
export function singleHeader(
  value: string | string[] | undefined,
  name: string,
): string | undefined {
  let text = value;
  if (Array.isArray(text)) {
    if (text.length > 1) throw sentTwice(name);
    text = text[0];
  }
  if (typeof text !== 'string') return undefined;
  // A context header holds base64 only: a comma means two were joined.
  if (text.includes(',')) throw sentTwice(name);
  return text;
}

function sentTwice(name: string): DContextError {
  return new DContextError(
    'DECODE_FAILED',
    `the '${name}' header was sent more than once; send it once`,
  );
}

/** `error` as a `DContextError` (`code` when it is something else), for `onError`. */
export function asError(
  error: unknown,
  what: string,
  code: 'DECODE_FAILED' | 'ENCODE_FAILED' = 'DECODE_FAILED',
): DContextError {
  if (isDContextError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DContextError(code, `${what}: ${detail}`, undefined, { cause: error });
}
