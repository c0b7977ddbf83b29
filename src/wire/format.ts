/**
 * The wire layout, format version 1 (documented for users in docs/wire-format.md):
 *
 * ```text
 * u8      format version (1)              a MessagePack positive fixint, so the whole message
 * array   scope chain: N str, outermost   is also a valid MessagePack stream of three items
 * array   entries: 3 × M items, per entry:
 *           str    key name
 *           uint   header = keyVersion * 4 + codecTag
 *           any    payload (shape depends on the codec tag)
 * ```
 *
 * Codec tags: 0 = MessagePack of the value, 1 = superjson (`[json]` or `[json, meta]` as
 * MessagePack), 2 = custom codec (MessagePack `bin` of the codec's bytes), 3 = reserved (kept
 * opaque, so a later sender can use it without breaking today's receivers).
 */

/** The format version byte this build writes, and the only one it reads. */
export const FORMAT_VERSION = 1;

/** Codec tag of an entry, the low two bits of its header. */
export const CodecTag = {
  msgpack: 0,
  superjson: 1,
  custom: 2,
  reserved: 3,
} as const;

/** One of the {@link CodecTag} values. */
export type CodecTag = (typeof CodecTag)[keyof typeof CodecTag];

/** The codec names shown in debug views, by tag. */
export const CODEC_NAMES = ['msgpack', 'superjson', 'custom', 'unknown'] as const;

/** How a codec tag is named in debug views. */
export type CodecName = (typeof CODEC_NAMES)[number];

/** Packs a key version and codec tag into an entry header. */
export function entryHeader(version: number, tag: CodecTag): number {
  return version * 4 + tag;
}

/** The key version carried by an entry header. */
export function headerVersion(header: number): number {
  return Math.floor(header / 4);
}

/** The codec tag carried by an entry header. */
export function headerCodec(header: number): CodecTag {
  return (header % 4) as CodecTag;
}
