/**
 * The public doors of the wire format: context to bytes or a header-safe string, and back.
 * The layout is documented in docs/wire-format.md.
 */
import { snapshot as currentSnapshot } from '../context-api.js';
import type { Snapshot } from '../store/snapshot.js';
import { decodeSnapshot } from './decode.js';
import { encodeSnapshot, encodeSnapshotToString } from './encode.js';
import type { DeserializeOptions } from './types.js';

/**
 * The context as MessagePack bytes: every non-local key with a value set (with its key version),
 * the scope chain, and the opaque entries received from upstream. Defaults to the current
 * context (`snapshot()`). Throws `CONTEXT_TOO_LARGE` over `setMaxContextSize` (default 64 KiB)
 * and `ENCODE_FAILED` when a value cannot be encoded with its key's codec.
 *
 * @example
 * await queue.add('job', { payload, context: serialize() });
 */
export function serialize(snapshot: Snapshot = currentSnapshot()): Uint8Array {
  return encodeSnapshot(snapshot);
}

/**
 * Like {@link serialize}, as a base64url string, for HTTP headers, gRPC metadata or
 * environment variables.
 *
 * @example
 * headers['x-dcontext'] = serializeToString();
 */
export function serializeToString(snapshot: Snapshot = currentSnapshot()): string {
  return encodeSnapshotToString(snapshot);
}

/**
 * A snapshot of a context received as bytes (from `serialize`) or a string (from
 * `serializeToString`). Run code in it with `withContext`, `asyncCtx.deserialize(input, fn)` or
 * `syncCtx.deserialize(input)`; the remote scope chain becomes the prefix of the local one.
 *
 * Safe on untrusted input: it returns a `Snapshot` or throws `DContextError` with code
 * `DECODE_FAILED` or `CONTEXT_TOO_LARGE`, and changes no context. Entries are decoded lazily,
 * on the first read of their key, unless `onDecodeError: 'throw'` (see {@link DeserializeOptions}).
 *
 * @example
 * const header = req.headers['x-dcontext'];
 * if (typeof header === 'string') await withContext(deserialize(header), () => handle(req));
 */
export function deserialize(input: Uint8Array | string, options?: DeserializeOptions): Snapshot {
  return decodeSnapshot(input, options);
}
