import { describe, expect, it } from 'vitest';
import { readUtf8 } from '../../src/wire/bytes.js';
import { decodeName } from '../../src/wire/names.js';

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** `text`'s UTF-8 bytes with two bytes of other data on each side. */
function framed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 4).fill(0x41);
  out.set(bytes, 2);
  return out;
}

describe('readUtf8', () => {
  it('reads ASCII and non-ASCII text of every length around the short-text cut', () => {
    for (let length = 0; length <= 40; length++) {
      for (const at of [-1, 0, 3, length - 1]) {
        const chars = Array.from({ length }, (_, i) => String.fromCharCode(0x61 + (i % 26)));
        if (at >= 0 && at < length) chars[at] = 'é';
        const text = chars.join('');
        const bytes = framed(encoder.encode(text));
        expect(readUtf8(bytes, 2, bytes.length - 2)).toBe(text);
      }
    }
  });

  it('refuses invalid UTF-8 wherever it sits', () => {
    for (let length = 1; length <= 24; length++) {
      for (let at = 0; at < length; at++) {
        const bytes = new Uint8Array(length).fill(0x62);
        bytes[at] = 0xff;
        expect(readUtf8(framed(bytes), 2, length + 2)).toBeUndefined();
        expect(() => strict.decode(bytes)).toThrow();
      }
    }
  });
});

describe('decodeName', () => {
  it('returns the same text for the same bytes, decoded once', () => {
    const bytes = encoder.encode('tenant');
    const first = decodeName(bytes, 0, bytes.length);
    const second = decodeName(bytes.slice(), 0, bytes.length);
    expect(first).toBe('tenant');
    expect(second).toBe(first);
    expect(new Map([['tenant', 1]]).get(second!)).toBe(1);
  });

  it('reads whatever name sits at a place, whichever name was there last time', () => {
    for (const place of [0, 1, 63, 64, -1]) {
      for (const name of ['tenant', 'tenent', 'user', 'tenant', 'ténant', 'user']) {
        const bytes = framed(encoder.encode(name));
        expect(decodeName(bytes, 2, bytes.length - 2, place)).toBe(name);
      }
    }
    const invalid = framed(new Uint8Array([0x74, 0xff]));
    expect(decodeName(invalid, 2, 4, 0)).toBeUndefined();
  });
});
