/**
 * The public doors of the wire format: context to bytes or a header-safe string, and back.
 * The layout is documented in docs/wire-format.md.
 */
import { snapshot as currentSnapshot } from '../context-api.js';
import type { Snapshot } from '../store/snapshot.js';
import { decodeSnapshot } from './decode.js';
import { encodeSnapshot, encodeSnapshotToString } from './encode.js';
import { checkInput, checkSnapshot, resolveSerializeOptions } from './options.js';
import type { DeserializeOptions, SerializeOptions } from './types.js';

/**
 * The context as MessagePack bytes: every non-local key with a value set (with its key version),
 * the scope chain, and the opaque entries received from upstream. Defaults to the current
 * context (`snapshot()`). Throws `CONTEXT_TOO_LARGE` over `setMaxContextSize` (default 64 KiB),
 * `ENCODE_FAILED` when a value cannot be encoded with its key's codec, and `INVALID_ARGUMENT`
 * for an argument that is not a Snapshot or options. With `signingKey`, the message ends with an
 * HMAC-SHA256 tag (see {@link SerializeOptions}).
 *
 * Bytes do not survive JSON (a `Uint8Array` becomes `{"0":1,…}`): for JSON job data, headers
 * and text, use {@link serializeToString}.
 *
 * @example
 * socket.write(serialize());
 */
export function serialize(snapshot?: Snapshot, options?: SerializeOptions | null): Uint8Array {
  checkSnapshot(snapshot, 'serialize');
  const resolved = resolveSerializeOptions(options, 'serialize');
  return encodeSnapshot(snapshot ?? currentSnapshot(), undefined, resolved);
}

/**
 * Like {@link serialize}, as a base64url string, for HTTP headers, gRPC metadata, JSON job data
 * or environment variables.
 *
 * @example
 * headers['x-dcontext'] = serializeToString();
 */
export function serializeToString(snapshot?: Snapshot, options?: SerializeOptions | null): string {
  checkSnapshot(snapshot, 'serializeToString');
  const resolved = resolveSerializeOptions(options, 'serializeToString');
  return encodeSnapshotToString(snapshot ?? currentSnapshot(), resolved);
}

/**
 * A snapshot of a context received as bytes (from `serialize`) or a string (from
 * `serializeToString`; standard base64 is read too). Run code in it with `withContext`,
 * `asyncCtx.deserialize(input, fn)` or `syncCtx.deserialize(input)`; the remote scope chain
 * becomes the prefix of the local one.
 *
 * Safe on untrusted input: it returns a `Snapshot` or throws `DContextError` with code
 * `DECODE_FAILED`, `CONTEXT_TOO_LARGE` or (with `verifyKeys`) `BAD_SIGNATURE`, and changes no
 * context; an input that is not a string or bytes, or a bad option, is `INVALID_ARGUMENT`.
 * Entries are decoded lazily, on the first read of their key, unless `onDecodeError: 'throw'`
 * (see {@link DeserializeOptions}). Anyone who can send the input can set every key it
 * carries: where callers are not trusted, pass `accept` (the keys they may set).
 *
 * @example
 * const header = req.headers['x-dcontext'];
 * if (typeof header === 'string') {
 *   await withContext(deserialize(header, { accept: ['request_id'] }), () => handle(req));
 * }
 */
export function deserialize(
  input: Uint8Array | string,
  options?: DeserializeOptions | null,
): Snapshot {
  checkInput(input);
  return decodeSnapshot(input, options);
}
