import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_WIRE_LIMITS,
  deserialize,
  initialize,
  maxContextSize,
  RegistryBuilder,
  serialize,
  serializeToString,
  setMaxContextSize,
  syncCtx,
} from '../../src/index.js';
import { concat, wireBytes } from './support/wire-bytes.js';

const builder = new RegistryBuilder();
const blob = builder.register<string>('blob');
const tags = builder.register<unknown>('tags');
beforeAll(() => initialize(builder));
afterEach(() => setMaxContextSize(64 * 1024));

const tooLarge = (size?: number, limit?: number) =>
  expect.objectContaining({
    code: 'CONTEXT_TOO_LARGE',
    message: expect.stringMatching(
      new RegExp(`is ${size ?? '\\d+'} bytes, over the limit of ${limit ?? '\\d+'} bytes`),
    ),
  });
const decodeFailed = (pattern: RegExp) =>
  expect.objectContaining({ code: 'DECODE_FAILED', message: expect.stringMatching(pattern) });

describe('setMaxContextSize', () => {
  it('defaults to 64 KiB', () => {
    expect(maxContextSize()).toBe(65_536);
  });

  it('rejects anything but a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => setMaxContextSize(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('serialize over the limit', () => {
  it('throws CONTEXT_TOO_LARGE with the size and the limit, and writes nothing', () => {
    setMaxContextSize(100);
    syncCtx.scope(() => {
      syncCtx.set(blob, 'x'.repeat(100));
      let written: Uint8Array | undefined;
      expect(() => {
        written = serialize();
      }).toThrow(tooLarge(undefined, 100));
      expect(written).toBeUndefined();
      expect(() => serializeToString()).toThrow(tooLarge(undefined, 100));
      syncCtx.set(blob, 'x'.repeat(80));
      expect(serialize().length).toBeLessThanOrEqual(100);
    });
  });

  it('counts forwarded bytes too', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(blob, 'y'.repeat(200));
      return serialize();
    });
    const received = deserialize(bytes);
    setMaxContextSize(150);
    expect(() => serialize(received)).toThrow(tooLarge(bytes.length, 150));
  });
});

describe('deserialize over the limit', () => {
  it('rejects oversized bytes before decoding them', () => {
    setMaxContextSize(64);
    // Malformed as well: the size check must come first.
    expect(() => deserialize(new Uint8Array(65).fill(0xc1))).toThrow(tooLarge(65, 64));
    expect(() => deserialize(new Uint8Array(64).fill(0xc1))).toThrow(decodeFailed(/format/));
  });

  it('rejects an oversized string by its decoded length, before decoding it', () => {
    setMaxContextSize(30);
    expect(() => deserialize('!'.repeat(44))).toThrow(tooLarge(33, 30));
    expect(() => deserialize('A'.repeat(40))).toThrow(decodeFailed(/not dcontext wire data/));
  });

  it('rejects a huge string at once, whatever its content', () => {
    const started = Date.now();
    expect(() => deserialize(`${'='.repeat(5_000_000)}x=`)).toThrow(tooLarge());
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('decoding bounds', () => {
  it('bounds nesting depth without recursing (60 000 levels in one entry)', () => {
    const deep = concat(new Uint8Array(60_000).fill(0x91), [0xc0]);
    const bytes = wireBytes([], [{ name: 'tags', version: 1, payload: deep }]);
    expect(() => deserialize(bytes)).toThrow(decodeFailed(/nesting deeper than 32/));
  });

  it('accepts nesting up to the limit, and what serialize accepts', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < DEFAULT_WIRE_LIMITS.maxDepth; i++) value = [value];
    const bytes = syncCtx.scope(() => {
      syncCtx.set(tags, value);
      return serialize();
    });
    expect(deserialize(bytes).get(tags)).toEqual(value);
    syncCtx.scope(() => {
      syncCtx.set(tags, [value]);
      expect(() => serialize()).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }));
    });
  });

  it('rejects declared lengths larger than the bytes that follow', () => {
    const cases = [
      [0xdb, 0xff, 0xff, 0xff, 0xff], // str 32 of 4 GiB
      [0xc6, 0x7f, 0xff, 0xff, 0xff], // bin 32
      [0xdd, 0x00, 0x10, 0x00, 0x00, 0xc0], // array 32 of 1 Mi items
      [0xdf, 0x00, 0x00, 0xff, 0xff, 0xc0, 0xc0], // map 32
      [0xc9, 0x00, 0x01, 0x00, 0x00, 0x01], // ext 32
    ];
    for (const payload of cases) {
      const bytes = wireBytes([], [{ name: 'tags', version: 1, payload: new Uint8Array(payload) }]);
      expect(() => deserialize(bytes)).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
    }
  });

  it('bounds string, collection and entry counts by the limits option', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(blob, 'z'.repeat(40));
      syncCtx.set(tags, [1, 2, 3, 4, 5]);
      return serialize();
    });
    expect(() => deserialize(bytes, { limits: { maxStringLength: 39 } })).toThrow(
      decodeFailed(/over the limit/),
    );
    expect(() => deserialize(bytes, { limits: { maxCollectionLength: 4 } })).toThrow(
      decodeFailed(/5 elements over the limit/),
    );
    expect(() => deserialize(bytes, { limits: { maxEntries: 1 } })).toThrow(
      decodeFailed(/entry list has 6 items, over the limit of 3/),
    );
    expect(() => deserialize(bytes, { limits: { maxDepth: 0 } })).toThrow(decodeFailed(/nesting/));
    expect(deserialize(bytes, { limits: { maxStringLength: 40 } }).get(blob)).toHaveLength(40);
  });

  it('bounds the received scope chain', () => {
    const chain = Array.from({ length: 300 }, (_, i) => `s${i}`);
    expect(() => deserialize(wireBytes(chain, []))).toThrow(decodeFailed(/scope chain has 300/));
    const ok = deserialize(wireBytes(chain.slice(0, 100), []));
    // Kept up to the local cap (setMaxScopeChainLength, default 64).
    expect(ok.scopeChain).toHaveLength(64);
  });

  it('carries strings over 64 KiB when both limits are raised', () => {
    setMaxContextSize(1024 * 1024);
    const big = 'b'.repeat(70_000);
    const bytes = syncCtx.scope(() => {
      syncCtx.set(blob, big);
      return serialize();
    });
    expect(() => deserialize(bytes)).toThrow(decodeFailed(/70000 bytes over the limit/));
    expect(deserialize(bytes, { limits: { maxStringLength: 100_000 } }).get(blob)).toBe(big);
  });
});
