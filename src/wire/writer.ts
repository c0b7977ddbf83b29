/** Byte-level writing of MessagePack for the wire format. */
const utf8 = new TextEncoder();
const floatBytes = new Uint8Array(8);
const floatView = new DataView(floatBytes.buffer);

/** Buffers larger than this are not kept for reuse after a serialize. */
const KEEP_LIMIT = 1024 * 1024;

/**
 * A growable byte buffer that writes MessagePack items (framing, plain values, see
 * plain-encoder.ts) and splices in already-encoded bytes (payloads from @msgpack/msgpack,
 * forwarded entries).
 */
export class ByteWriter {
  /** The buffer; bytes `[0, pos)` are written. */
  bytes: Uint8Array;
  pos = 0;
  /** A `Buffer` over `bytes`, for string output, made once per buffer. */
  #view: Buffer | null = null;

  constructor(size = 512) {
    this.bytes = new Uint8Array(size);
  }

  /** Makes room for `count` more bytes. */
  ensure(count: number): void {
    const needed = this.pos + count;
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  /** One raw byte (a MessagePack type byte or a fixed value such as nil, true, false). */
  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = value;
  }

  /** A big-endian unsigned integer of `size` bytes (1, 2 or 4), `value` < 2^32. */
  #be(value: number, size: number): void {
    this.ensure(size);
    const bytes = this.bytes;
    let pos = this.pos;
    if (size === 4) {
      bytes[pos++] = value >>> 24;
      bytes[pos++] = (value >>> 16) & 0xff;
    }
    if (size >= 2) bytes[pos++] = (value >>> 8) & 0xff;
    bytes[pos++] = value & 0xff;
    this.pos = pos;
  }

  /** A non-negative integer (<= 2^53) in its smallest MessagePack form. */
  uint(value: number): void {
    if (value < 0x80) this.u8(value);
    else if (value < 0x100) this.#head(0xcc, value, 1);
    else if (value < 0x10000) this.#head(0xcd, value, 2);
    else if (value < 0x100000000) this.#head(0xce, value, 4);
    else {
      this.u8(0xcf);
      this.#be(Math.floor(value / 0x100000000), 4);
      this.#be(value >>> 0, 4);
    }
  }

  /** A negative integer >= -2^31 in its smallest MessagePack form. */
  negativeInt(value: number): void {
    if (value >= -0x20) this.u8(0xe0 | (value + 0x20));
    else if (value >= -0x80) this.#head(0xd0, value & 0xff, 1);
    else if (value >= -0x8000) this.#head(0xd1, value & 0xffff, 2);
    else this.#head(0xd2, value >>> 0, 4);
  }

  /** A MessagePack float 64. */
  f64(value: number): void {
    this.ensure(9);
    this.bytes[this.pos++] = 0xcb;
    floatView.setFloat64(0, value);
    this.bytes.set(floatBytes, this.pos);
    this.pos += 8;
  }

  /** A MessagePack map header for `size` pairs. */
  mapHeader(size: number): void {
    if (size < 16) this.u8(0x80 + size);
    else if (size < 0x10000) this.#head(0xde, size, 2);
    else this.#head(0xdf, size, 4);
  }

  /** A MessagePack array header for `length` elements. */
  arrayHeader(length: number): void {
    if (length < 16) this.u8(0x90 + length);
    else if (length < 0x10000) this.#head(0xdc, length, 2);
    else this.#head(0xdd, length, 4);
  }

  /**
   * A MessagePack string, always valid UTF-8 (a lone surrogate becomes U+FFFD, as with
   * TextEncoder), so any receiver can decode it strictly.
   */
  str(value: string): void {
    const length = value.length;
    // Most strings are ASCII: write them in one pass as one byte per character, behind a header
    // for that length, and start over with the UTF-8 length at the first character that is not.
    const head = length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    this.ensure(head + length);
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start + head;
    for (let i = 0; i < length; i++) {
      const unit = value.charCodeAt(i);
      if (unit >= 0x80) {
        const byteLength = utf8Length(value);
        this.#strHeader(byteLength);
        this.ensure(byteLength);
        utf8.encodeInto(value, this.bytes.subarray(this.pos, this.pos + byteLength));
        this.pos += byteLength;
        return;
      }
      bytes[pos++] = unit;
    }
    this.#strHeader(length);
    this.pos = pos;
  }

  /** A MessagePack `bin` holding `data`. */
  bin(data: Uint8Array): void {
    const length = data.length;
    if (length < 0x100) this.#head(0xc4, length, 1);
    else if (length < 0x10000) this.#head(0xc5, length, 2);
    else this.#head(0xc6, length, 4);
    this.raw(data);
  }

  /** `data` as it is (already-encoded MessagePack). */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** A copy of what was written; resets the writer for reuse. */
  take(): Uint8Array {
    const result = this.bytes.slice(0, this.pos);
    this.reset();
    return result;
  }

  /** What was written, as base64url without padding, made without copying it; resets the writer. */
  takeBase64Url(): string {
    const bytes = this.bytes;
    let view = this.#view;
    if (view === null || view.buffer !== bytes.buffer) {
      view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.#view = view;
    }
    const text = view.toString('base64url', 0, this.pos);
    this.reset();
    return text;
  }

  /** Empties the writer, dropping a buffer grown past 1 MiB. */
  reset(): void {
    this.pos = 0;
    if (this.bytes.length > KEEP_LIMIT) this.bytes = new Uint8Array(512);
  }

  #strHeader(length: number): void {
    if (length < 32) this.u8(0xa0 + length);
    else if (length < 0x100) this.#head(0xd9, length, 1);
    else if (length < 0x10000) this.#head(0xda, length, 2);
    else this.#head(0xdb, length, 4);
  }

  #head(type: number, value: number, size: number): void {
    this.u8(type);
    this.#be(value, size);
  }
}

/** Bytes of `value` in UTF-8 as TextEncoder writes it (a lone surrogate takes 3 bytes, U+FFFD). */
function utf8Length(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/**
 * Consecutive ranges of one received message, gathered so that forwarding copies them with one
 * `set` instead of one per entry: entries left undecoded usually sit side by side in the input.
 */
export class RawRun {
  #source: Uint8Array | null = null;
  #start = 0;
  #end = 0;

  /** Bytes gathered and not written yet. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Adds `source[start, end)`, first writing the gathered run if this one does not extend it. */
  add(writer: ByteWriter, source: Uint8Array, start: number, end: number): void {
    if (source === this.#source && start === this.#end) {
      this.#end = end;
      return;
    }
    this.flush(writer);
    this.#source = source;
    this.#start = start;
    this.#end = end;
  }

  /** Writes the gathered bytes; call before writing anything else. */
  flush(writer: ByteWriter): void {
    if (this.#source === null) return;
    writer.raw(this.#source.subarray(this.#start, this.#end));
    this.#source = null;
    this.#start = this.#end = 0;
  }
}
