/**
 * Entry payloads per codec: MessagePack of the value (default), superjson for values MessagePack
 * cannot carry faithfully, or a key's own `{ encode, decode }` carried as a MessagePack `bin`.
 */
import {
  Decoder,
  decodeTimestampExtension,
  Encoder,
  EXT_TIMESTAMP,
  ExtensionCodec,
  encodeTimestampExtension,
} from '@msgpack/msgpack';
import superjson from 'superjson';
import type { KeyCodec } from '../registry/types.js';
import { CodecTag } from './format.js';
import { DEFAULT_WIRE_LIMITS } from './limits.js';
import { decodePlain, NOT_PLAIN } from './plain-decoder.js';
import { writePlain } from './plain-encoder.js';
import { checkSuperjsonMeta } from './superjson-meta.js';
import type { ByteWriter } from './writer.js';

/**
 * MessagePack would silently turn a Map, Set or RegExp into `{}`, and an own `__proto__` key
 * would be refused by every receiver; failing at `serialize` points at the fix instead.
 */
const refuseUnfaithful = new ExtensionCodec();
refuseUnfaithful.register({
  type: 0,
  encode(value: unknown): Uint8Array | null {
    if (value instanceof Map || value instanceof Set || value instanceof RegExp) {
      throw new Error(
        `a ${value.constructor.name} cannot travel as MessagePack; register the key with codec: 'superjson'`,
      );
    }
    if (Object.hasOwn(value as object, '__proto__')) {
      throw new Error("an own '__proto__' property cannot travel on the wire");
    }
    return null;
  },
  decode(): never {
    throw new Error('unreachable: decoding uses the default extension codec');
  },
});

// The built-in timestamp extension would write an invalid Date as the epoch; it is replaced by
// the same extension that refuses one instead.
refuseUnfaithful.register({
  type: EXT_TIMESTAMP,
  encode(value: unknown): Uint8Array | null {
    if (value instanceof Date && Number.isNaN(value.getTime())) {
      throw new Error('an invalid Date cannot travel on the wire (it would arrive as the epoch)');
    }
    return encodeTimestampExtension(value);
  },
  decode: decodeTimestampExtension,
});

// Depth counts differently in the encoder (the top value is depth 1); +1 makes what it accepts
// exactly what the receiver's pre-scan accepts with the default limits.
const ENCODE_DEPTH = DEFAULT_WIRE_LIMITS.maxDepth + 1;
const encoder = new Encoder({
  extensionCodec: refuseUnfaithful,
  maxDepth: ENCODE_DEPTH,
  initialBufferSize: 512,
});
const decoder = new Decoder();

/** The codec tag written for a key registered with `codec`. */
export function codecTag(codec: KeyCodec<unknown>): CodecTag {
  if (codec === 'msgpack') return CodecTag.msgpack;
  if (codec === 'superjson') return CodecTag.superjson;
  return CodecTag.custom;
}

/** Writes the payload of `value` with `codec` (the tag is `codecTag(codec)`). */
export function writePayload(writer: ByteWriter, value: unknown, codec: KeyCodec<unknown>): void {
  if (codec === 'msgpack') {
    writeMsgpack(writer, value);
  } else if (codec === 'superjson') {
    const { json, meta } = superjson.serialize(value);
    // superjson's `json` is only JSON once stringified: it can still hold objects with a
    // `toJSON`, which MessagePack would encode as themselves. One JSON pass makes it the data
    // it means, and refuses an invalid Date, which superjson cannot carry (it would arrive null).
    const data: unknown =
      json === undefined ? undefined : JSON.parse(JSON.stringify(json, refuseInvalidDate));
    writeMsgpack(writer, meta === undefined ? [data] : [data, meta]);
  } else {
    const bytes = codec.encode(value);
    if (!(bytes instanceof Uint8Array)) {
      throw new Error('the custom codec encode() must return a Uint8Array');
    }
    writer.bin(bytes);
  }
}

function refuseInvalidDate(this: unknown, key: string, value: unknown): unknown {
  const original: unknown = (this as Record<string, unknown>)[key];
  if (original instanceof Date && Number.isNaN(original.getTime())) {
    throw new Error('an invalid Date cannot travel with superjson (it would arrive as null)');
  }
  return value;
}

/** `value` as MessagePack: plain data inline, anything else through the general encoder. */
function writeMsgpack(writer: ByteWriter, value: unknown): void {
  const mark = writer.pos;
  if (writePlain(writer, value, ENCODE_DEPTH)) return;
  writer.pos = mark;
  writer.raw(encoder.encodeSharedRef(value));
}

/**
 * MessagePack decoding of `bytes[start, end)` (already bounded by the pre-scan): plain data
 * inline, anything else through @msgpack/msgpack's decoder, with the same result either way.
 */
export function decodeMsgpack(bytes: Uint8Array, start: number, end: number): unknown {
  const plain = decodePlain(bytes, start, end);
  return plain === NOT_PLAIN ? decoder.decode(bytes.subarray(start, end)) : plain;
}

/**
 * Decodes a superjson payload (`[json]` or `[json, meta]`) without a registry. The meta is
 * checked first (see superjson-meta.ts): superjson never sees annotations it did not write.
 */
export function decodeSuperjson(bytes: Uint8Array, start: number, end: number): unknown {
  const parts = decodeMsgpack(bytes, start, end);
  if (!Array.isArray(parts) || parts.length < 1 || parts.length > 2) {
    throw new Error('a superjson payload is [json] or [json, meta]');
  }
  const meta: unknown = parts[1];
  if (meta === undefined) return parts[0];
  checkSuperjsonMeta(parts[0], meta, end - start);
  // `inPlace`: the decoded tree is ours, no need for superjson's defensive copy.
  return superjson.deserialize({ json: parts[0], meta: meta as never }, { inPlace: true });
}

/** The bytes of a custom-codec payload (a `bin`), as a fresh copy the codec may keep. */
export function customBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const data = decoder.decode(bytes.subarray(start, end));
  if (!(data instanceof Uint8Array)) throw new Error('a custom-codec payload must be binary');
  return data.slice();
}

/** Decodes a payload written with codec `tag`, using the receiving key's `codec` for custom. */
export function readPayload(
  bytes: Uint8Array,
  start: number,
  end: number,
  tag: CodecTag,
  codec: KeyCodec<unknown>,
): unknown {
  if (tag === CodecTag.msgpack) return decodeMsgpack(bytes, start, end);
  if (tag === CodecTag.superjson) return decodeSuperjson(bytes, start, end);
  if (typeof codec !== 'object') {
    throw new Error(
      `it was sent with a custom codec but is registered here with codec '${codec}'; register the same codec on both sides`,
    );
  }
  return codec.decode(customBytes(bytes, start, end));
}
