/** The producer side shared by `dcontext/bullmq` and `dcontext/nats`. */
import { type SerializeOptions, serializeToString } from '../../index.js';
import { invalid, keyListOption, optionsObject } from '../http/check.js';
import type { SendOptions } from './types.js';

const DEFAULT: SerializeOptions = {};
// Options are usually one object made at startup: resolved (and checked) once per object.
const resolved = new WeakMap<object, SerializeOptions>();

/** `SendOptions` as `serialize` options, checked (`INVALID_ARGUMENT`) once per object. */
export function serializeOptions(options: SendOptions | undefined, door: string): SerializeOptions {
  if (options === undefined || options === null) return DEFAULT;
  let out = resolved.get(options);
  if (out === undefined) {
    const object = optionsObject<SendOptions>(options, door);
    const send = keyListOption(object.send, 'all', `${door} option send`);
    if (send === 'none') {
      throw invalid(
        `${door} option send must be 'all' or a list of keys (to send nothing, call the plain method)`,
      );
    }
    out = {
      keys: send,
      ...(object.signingKey === undefined ? {} : { signingKey: object.signingKey }),
    };
    resolved.set(options, out);
  }
  return out;
}

/**
 * The current context as a base64url string. Throws `CONTEXT_TOO_LARGE` over the size limit
 * (`setMaxContextSize`) and `ENCODE_FAILED`, so an oversize context fails at the producer.
 */
export function currentContext(options: SendOptions | undefined, door: string): string {
  return serializeToString(undefined, serializeOptions(options, door));
}
