/**
 * Registry-free reading of wire bytes: what any process (or the `dcontext decode` command) can
 * show without knowing the sender's keys. MessagePack and superjson payloads are self-describing
 * and shown decoded; custom-codec payloads are shown as their size.
 */
import { causeText } from '../errors.js';
import { decodeMsgpack, decodeSuperjson } from './codecs.js';
import { toDebugValue } from './debug-value.js';
import { CODEC_NAMES, CodecTag, FORMAT_VERSION, headerCodec, headerVersion } from './format.js';
import { DEFAULT_WIRE_LIMITS, type WireLimits } from './limits.js';
import { parseContext, type RawEntry } from './parse.js';
import type { DebugEntry, DebugView } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The debug entry of `entry` in `bytes`, decoding its payload where it is self-describing. */
export function describeEntry(bytes: Uint8Array, entry: RawEntry): Mutable<DebugEntry> {
  const tag = headerCodec(entry.header);
  const view: Mutable<DebugEntry> = {
    key: entry.name,
    version: headerVersion(entry.header),
    codec: CODEC_NAMES[tag],
  };
  const { payload, end } = entry;
  if (tag === CodecTag.msgpack || tag === CodecTag.superjson) {
    try {
      const decode = tag === CodecTag.msgpack ? decodeMsgpack : decodeSuperjson;
      view.value = toDebugValue(decode(bytes, payload, end));
    } catch (error) {
      view.bytes = end - payload;
      view.error = causeText(error);
    }
  } else {
    view.bytes = end - payload;
  }
  return view;
}

/**
 * The debug view of serialized context, without any registry: chain, and for each entry its
 * key, version, codec and value (when self-describing). Throws `DECODE_FAILED` on malformed
 * input; bounded like `deserialize`, but with no size limit of its own.
 */
export function inspectWire(
  bytes: Uint8Array,
  limits: WireLimits = DEFAULT_WIRE_LIMITS,
): DebugView {
  const { chain, entries } = parseContext(bytes, limits);
  return {
    format: FORMAT_VERSION,
    chain,
    entries: entries.map((entry) => describeEntry(bytes, entry)),
  };
}
