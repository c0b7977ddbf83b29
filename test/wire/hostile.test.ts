import { encode } from '@msgpack/msgpack';
import superjson from 'superjson';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  asyncCtx,
  type DContextError,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  scopeChain,
  serialize,
  serializeToString,
  set,
  syncCtx,
  toDebugJSON,
} from '../../src/index.js';
import { concat, entryBytes, wireBytes } from './support/wire-bytes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const rich = builder.register<unknown>('rich', { codec: 'superjson' });
const data = builder.register<unknown>('data');
beforeAll(() => initialize(builder));

const ignore = (): void => {};
const failed = (pattern: RegExp = /./) =>
  expect.objectContaining({ code: 'DECODE_FAILED', message: expect.stringMatching(pattern) });

describe('arguments of the wrong type are INVALID_ARGUMENT', () => {
  const invalid = (pattern: RegExp) =>
    expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(pattern) });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { bytes: [1] }],
    ['an array', [1, 0x90, 0x90]],
  ])('refuses %s as input, in every deserialize', (_label, input) => {
    const expected = invalid(/Uint8Array from serialize\(\) or the string/);
    expect(() => deserialize(input as never)).toThrow(expected);
    expect(() => asyncCtx.deserialize(input as never, () => 1)).toThrow(expected);
    expect(() => syncCtx.deserialize(input as never)).toThrow(expected);
  });

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['a string', 'snapshot'],
  ])('refuses %s as the snapshot to serialize or show', (_label, value) => {
    const expected = invalid(/expects a Snapshot/);
    expect(() => serialize(value as never)).toThrow(expected);
    expect(() => serializeToString(value as never)).toThrow(expected);
    expect(() => toDebugJSON(value as never)).toThrow(expected);
  });

  it('answers options and snapshots whose getters or Proxy traps throw with INVALID_ARGUMENT', () => {
    const trap = (): never => {
      throw new TypeError('trap');
    };
    const hostile = new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap });
    const getter = {
      get accept(): never {
        return trap();
      },
    };
    const expected = invalid(/reading an argument threw \(trap\)/);
    const input = serialize(Snapshot.empty());
    expect(() => deserialize(input, hostile as never)).toThrow(expected);
    expect(() => deserialize(input, getter as never)).toThrow(expected);
    expect(() => deserialize(input, { limits: hostile as never })).toThrow(expected);
    expect(() => deserialize(input, { accept: [hostile] as never })).toThrow(expected);
    expect(() => serialize(undefined, hostile as never)).toThrow(expected);
    expect(() => serialize(hostile as never)).toThrow(expected);
    expect(() => serializeToString(hostile as never)).toThrow(expected);
    expect(() => syncCtx.deserialize(input, hostile as never)).toThrow(expected);
  });

  it('takes null or undefined options as no options', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(requestId, 'r-1');
      return serialize(undefined, null);
    });
    expect(serializeToString(undefined, null)).toBe('AZCQ');
    expect(deserialize(bytes, null).get(requestId)).toBe('r-1');
    expect(deserialize(bytes, undefined).get(requestId)).toBe('r-1');
    expect(asyncCtx.deserialize(bytes, () => get(requestId), null)).toBe('r-1');
    using _guard = syncCtx.deserialize(bytes, null);
    expect(syncCtx.get(requestId)).toBe('r-1');
  });

  it.each([
    ['options that are a number', 42, /options must be an object/],
    ['options that are a string', 'throw', /options must be an object/],
    [
      'an unknown onDecodeError',
      { onDecodeError: 'ignore' },
      /onDecodeError must be 'drop' or 'throw'/,
    ],
    [
      'an unknown unknownEntries',
      { unknownEntries: 'forward' },
      /unknownEntries must be 'keep' or 'drop'/,
    ],
    [
      'an onDroppedEntry that is not a function',
      { onDroppedEntry: 'log' },
      /onDroppedEntry must be a function/,
    ],
    ['limits that are a number', { limits: 5 }, /limits must be an object/],
    [
      'an accept that is a string',
      { accept: 'request_id' },
      /accept must be 'all', 'none' or a list/,
    ],
    ['an accept listing a number', { accept: ['request_id', 7] }, /accept lists number/],
    [
      'verifyKeys that is one key',
      { verifyKeys: 'k'.repeat(32) },
      /verifyKeys must be a non-empty list/,
    ],
    ['an empty verifyKeys', { verifyKeys: [] }, /verifyKeys must be a non-empty list/],
  ])('refuses %s', (_label, options, pattern) => {
    expect(() => deserialize(new Uint8Array([1, 0x90, 0x90]), options as never)).toThrow(
      invalid(pattern),
    );
  });
});

describe('malformed input is DECODE_FAILED', () => {
  it.each([
    ['empty bytes', new Uint8Array(0), /empty input/],
    [
      'a newer format (2, then an array)',
      new Uint8Array([2, 0x90, 0x90]),
      /newer dcontext wire format \(2\).*upgrade dcontext on this side/,
    ],
    [
      'a newer format (9, array16)',
      new Uint8Array([9, 0xdc, 0, 0]),
      /newer dcontext wire format \(9\)/,
    ],
    ['format byte 0', new Uint8Array([0, 0x90, 0x90]), /not dcontext wire data/],
    ['a small number then no array', new Uint8Array([2, 0xc0]), /not dcontext wire data/],
    ['a first byte over 127', new Uint8Array([0x85, 0x90, 0x90]), /not dcontext wire data/],
    ['a JSON text', new TextEncoder().encode('{"a":1}'), /not dcontext wire data/],
    [
      'a chain that is not an array',
      new Uint8Array([1, 0xc0, 0x90]),
      /scope chain is not an array/,
    ],
    ['a scope name that is not a string', new Uint8Array([1, 0x91, 0x01, 0x90]), /scope name/],
    ['a missing entry list', new Uint8Array([1, 0x90]), /entry list missing/],
    [
      'an entry list of 2 items',
      new Uint8Array([1, 0x90, 0x92, 0xa1, 0x61, 0x04]),
      /multiple of 3/,
    ],
    ['trailing bytes', new Uint8Array([1, 0x90, 0x90, 0x00]), /trailing/],
    ['the unused type byte 0xc1', concat([1, 0x90, 0x93], encode('data'), [4, 0xc1]), /0xc1/],
    ['a key that is not a string', concat([1, 0x90, 0x93, 0x01, 0x04, 0xc0]), /key name/],
    ['an empty key name', concat([1, 0x90, 0x93, 0xa0, 0x04, 0xc0]), /empty key name/],
    ['a negative header', concat([1, 0x90, 0x93], encode('data'), [0xff, 0xc0]), /header/],
    ['a string header', concat([1, 0x90, 0x93], encode('data'), encode('4'), [0xc0]), /header/],
    ['invalid UTF-8 in a key name', concat([1, 0x90, 0x93, 0xa2, 0xc3, 0x28, 0x04, 0xc0]), /UTF-8/],
  ])('rejects %s', (_label, bytes, pattern) => {
    expect(() => deserialize(bytes)).toThrow(failed(pattern));
  });

  it('reads standard base64 (+, /, = padding) as well as base64url', () => {
    const bytes = syncCtx.scope('s', () => {
      // 0xfb 0xff: base64url '-_', standard base64 '+/'.
      syncCtx.set(data, new Uint8Array([0xfb, 0xff, 0xfe]));
      return serialize();
    });
    const url = Buffer.from(bytes).toString('base64url');
    const standard = Buffer.from(bytes).toString('base64');
    expect(url).toMatch(/[-_]/);
    expect(standard).toMatch(/[+/]/);
    expect(standard).toMatch(/=$/);
    for (const text of [
      url,
      standard,
      standard.replace(/=+$/, ''),
      `${url}${'='.repeat((4 - (url.length % 4)) % 4)}`,
    ]) {
      expect(deserialize(text).get(data)).toEqual(new Uint8Array([0xfb, 0xff, 0xfe]));
    }
  });

  it('rejects every truncation of a valid message', () => {
    const bytes = syncCtx.scope('s', () => {
      syncCtx.set(requestId, 'r-1');
      syncCtx.set(data, { list: [1, 2, 3], text: 'x'.repeat(40) });
      syncCtx.set(rich, new Map([[1, new Date(0)]]));
      return serialize();
    });
    for (let length = 0; length < bytes.length; length++) {
      expect(() => deserialize(bytes.subarray(0, length))).toThrow(failed());
    }
    expect(deserialize(bytes).get(requestId)).toBe('r-1');
  });

  it('rejects a key that appears twice, known or unknown', () => {
    const twice = (name: string) =>
      wireBytes(
        [],
        [
          { name, version: 1, value: 1 },
          { name, version: 1, value: 2 },
        ],
      );
    expect(() => deserialize(twice('data'))).toThrow(failed(/'data' appears twice/));
    expect(() => deserialize(twice('mystery'))).toThrow(failed(/'mystery' appears twice/));
    const newerThenCurrent = wireBytes(
      [],
      [
        { name: 'data', version: 7, value: 1 },
        { name: 'data', version: 1, value: 2 },
      ],
    );
    expect(() => deserialize(newerThenCurrent)).toThrow(failed(/appears twice/));
  });

  it.each([
    ['hello-world', 'hello-world'],
    ['a UUID', '123e4567-e89b-12d3-a456-426614174000'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo'],
  ])('says %s is not dcontext wire data (not a newer format)', (_label, text) => {
    expect(() => deserialize(text)).toThrow(failed(/not dcontext wire data/));
    expect(() => deserialize(text)).not.toThrow(/upgrade/);
  });

  it.each([
    ['characters outside base64url', 'AQ!!'],
    ['one character too many', 'AZCQA'],
    ['padding in the middle', 'AQ=A'],
    ['too much padding', 'AZCQ==='],
    ['non-ASCII', 'AZCQé'],
    ['an empty string', ''],
    ['a space', 'AZ CQ'],
    ['a line break', 'AZCQ\n'],
    ['a dot', 'AZ.CQ'],
    ['a percent escape', 'AZCQ%3D'],
    ['one padding character short', 'AZCQAQ='],
    ['padding after a complete group', 'AZCQ='],
    ['padding then more data', 'AZCQ==AZCQ'],
  ])('rejects a string with %s', (_label, text) => {
    expect(() => deserialize(text)).toThrow(failed());
  });
});

describe('hostile payloads', () => {
  it('cannot pollute prototypes through superjson annotations', () => {
    const attempts = [
      [{}, { values: { '__proto__.polluted': ['undefined'] } }],
      [{ a: {} }, { values: { 'a.constructor.prototype.polluted': ['Date'] } }],
      [{}, { referentialEqualities: { '': ['__proto__.polluted'] } }],
      [[], { values: [['class', 'Object'], {}] }],
    ];
    for (const payload of attempts) {
      const bytes = wireBytes([], [{ name: 'rich', version: 1, codec: 1, value: payload }]);
      deserialize(bytes, { onDroppedEntry: ignore }).get(rich);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  });

  it('keeps __proto__ and constructor as plain data or rejects them', () => {
    const payload = concat(
      [0x82],
      encode('constructor'),
      encode({ prototype: { polluted: 1 } }),
      encode('ok'),
      [1],
    );
    const received = deserialize(wireBytes([], [{ name: 'data', version: 1, payload }]));
    expect(received.get(data)).toEqual({ constructor: { prototype: { polluted: 1 } }, ok: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('decodes a timestamp extension and keeps unknown extensions as data', () => {
    const ext = new Uint8Array([0xd4, 0x05, 0x2a]);
    const received = deserialize(wireBytes([], [{ name: 'data', version: 1, payload: ext }]));
    expect(received.get(data)).toMatchObject({ type: 5 });
    const badTimestamp = new Uint8Array([0xd4, 0xff, 0x00]);
    const dropped: string[] = [];
    const snapshot = deserialize(
      wireBytes([], [{ name: 'data', version: 1, payload: badTimestamp }]),
      {
        onDroppedEntry: (error) => dropped.push(error.key ?? ''),
      },
    );
    expect(snapshot.get(data)).toBeUndefined();
    expect(dropped).toEqual(['data']);
  });

  it('copes with maps of tens of thousands of entries in bounded time', () => {
    const pairs = new Uint8Array(60_000);
    for (let i = 0; i < 30_000; i++) pairs.set([0xa0, 0xc0], i * 2); // '' -> nil, repeated
    const payload = concat([0xde, 0x75, 0x30], pairs);
    const started = Date.now();
    const received = deserialize(wireBytes([], [{ name: 'data', version: 1, payload }]));
    expect(received.get(data)).toEqual({ '': null });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('the current context', () => {
  it('is untouched by deserialize, whether it succeeds or fails', async () => {
    const bytes = syncCtx.scope('remote', () => {
      syncCtx.set(requestId, 'remote');
      return serialize();
    });
    await scope('local', async () => {
      set(requestId, 'local');
      const received = deserialize(bytes);
      expect(() => deserialize(bytes.subarray(0, 5))).toThrow();
      expect(() => deserialize(concat(bytes, [0]))).toThrow();
      expect(get(requestId)).toBe('local');
      expect(scopeChain()).toEqual(['local']);
      expect(received).toBeInstanceOf(Snapshot);
      expect(received.get(requestId)).toBe('remote');
    });
  });

  it('does not change the received entry when the input buffer is held', () => {
    const entry = entryBytes({ name: 'request_id', version: 1, value: 'abc' });
    const bytes = concat([1, 0x90, 0x93], entry);
    const received = deserialize(bytes);
    expect(received.get(requestId)).toBe('abc');
    bytes.fill(0);
    expect(received.get(requestId)).toBe('abc');
  });
});

describe('superjson annotations', () => {
  // A key registered with superjson; the payload is `[json, meta]` as MessagePack.
  const sendRich = (json: unknown, meta: unknown): Uint8Array =>
    wireBytes([], [{ name: 'rich', version: 1, codec: 1, value: [json, meta] }]);

  function readDropped(bytes: Uint8Array): DContextError[] {
    const dropped: DContextError[] = [];
    expect(deserialize(bytes, { onDroppedEntry: (e) => dropped.push(e) }).get(rich)).toBe(
      undefined,
    );
    return dropped;
  }

  const pathOf = (segments: number): string =>
    Array.from({ length: segments }, () => 'a').join('.');

  it.each([
    [
      'values that is a string (superjson recursed until the stack overflowed)',
      null,
      { values: 'a' },
    ],
    ['values that is a string, with v', null, { values: 'a', v: 1 }],
    ['values that is a number', {}, { values: 7, v: 1 }],
    ['a node of three items', {}, { values: ['Date', {}, 1], v: 1 }],
    ['an unknown type', { a: 1 }, { values: { a: ['function'] }, v: 1 }],
    ['a composite type without a name', { a: 1 }, { values: { a: [['class']] }, v: 1 }],
    ['children that are a string', { a: [] }, { values: { a: ['set', 'x'] }, v: 1 }],
    ['a record value that is a string', { a: 1 }, { values: { a: 'Date' }, v: 1 }],
    ['no version', { a: '1' }, { values: { a: ['bigint'] } }],
    ['legacy version 0', { a: '1' }, { values: { a: ['bigint'] }, v: 0 }],
    ['an unknown meta field', {}, { v: 1, extra: 1 }],
    ['a path with an invalid escape', { a: 1 }, { values: { 'a\\x': ['Date'] }, v: 1 }],
    ['a path of 65 segments', {}, { values: { [pathOf(65)]: ['Date'] }, v: 1 }],
    ['a path to nothing in the value', { a: {} }, { values: { 'a.b': ['Date'] }, v: 1 }],
    ['paths nested in one record', { a: [1] }, { values: { a: ['set'], 'a.0': ['Date'] }, v: 1 }],
    ['an array index written as 01', [[1]], { values: { '0': ['set'], '01.0': ['Date'] }, v: 1 }],
    [
      'a typed array over a number',
      { a: 1e9 },
      { values: { a: [['typed-array', 'Float64Array']] }, v: 1 },
    ],
    [
      'a regexp of 4097 characters (V8 parses nested groups superlinearly)',
      { a: `/${'('.repeat(2047)}${')'.repeat(2047)}/g` },
      { values: { a: ['regexp'] }, v: 1 },
    ],
    ['a regexp that is not a string', { a: 5 }, { values: { a: ['regexp'] }, v: 1 }],
    ['references that are a number', {}, { referentialEqualities: 5, v: 1 }],
    ['a reference list of numbers', { a: {} }, { referentialEqualities: { a: [1] }, v: 1 }],
    ['root references of four parts', {}, { referentialEqualities: [[], {}, {}, {}], v: 1 }],
    [
      'a reference path through another reference (an alias of a Set)',
      { s: [1, 2], t: 0, o: {} },
      { values: { s: ['set'] }, referentialEqualities: { s: ['t'], o: ['t.1'] }, v: 1 },
    ],
    [
      'a reference path through a root reference',
      { s: [1, 2], o: {} },
      { values: { s: ['set'] }, referentialEqualities: [['r'], { o: ['r.s.1'] }], v: 1 },
    ],
  ])('refuses %s before superjson sees it', (_label, json, meta) => {
    const handed = vi.spyOn(superjson, 'deserialize');
    try {
      const dropped = readDropped(sendRich(json, meta));
      expect(dropped).toEqual([
        expect.objectContaining({
          code: 'DECODE_FAILED',
          key: 'rich',
          message: expect.stringContaining('invalid superjson annotations'),
        }),
      ]);
      expect(handed).not.toHaveBeenCalled();
    } finally {
      handed.mockRestore();
    }
  });

  it('prices each Set and Map: thousands of them are refused, hundreds still decode', () => {
    // superjson builds each Set at ~12 µs cold: 6,000 empty Sets in 64 KiB took ~67 ms CPU.
    const setsOf = (count: number) => ({
      json: { s: Array.from({ length: count }, () => []) },
      meta: {
        values: {
          s: ['set', Object.fromEntries(Array.from({ length: count }, (_, i) => [i, ['set']]))],
        },
        v: 1,
      },
    });
    const many = setsOf(6000);
    const handed = vi.spyOn(superjson, 'deserialize');
    try {
      const dropped = readDropped(sendRich(many.json, many.meta));
      expect(dropped.map((e) => e.code)).toEqual(['DECODE_FAILED']);
      expect(handed).not.toHaveBeenCalled();
    } finally {
      handed.mockRestore();
    }
    const few = setsOf(300);
    const value = deserialize(sendRich(few.json, few.meta)).get(rich) as { s: Set<Set<never>> };
    expect(value.s).toBeInstanceOf(Set);
    expect(value.s.size).toBe(300);
  });

  it('refuses references that would walk deep into a large Set, before superjson sees them', () => {
    // What superjson itself writes for a Set of 1800 objects that all share one object: every
    // reference walks the Set from its start (~70-145 ms at 63 KiB before this check).
    const shared = { id: 1 };
    const value = {
      owner: shared,
      members: new Set(Array.from({ length: 1800 }, () => ({ shared }))),
    };
    const { json, meta } = superjson.serialize(value);
    const handed = vi.spyOn(superjson, 'deserialize');
    try {
      const dropped = readDropped(sendRich(json, meta));
      expect(dropped[0]?.message).toMatch(/more work than the payload size allows/);
      expect(handed).not.toHaveBeenCalled();
    } finally {
      handed.mockRestore();
    }
  });

  it('refuses references that walk a large Set through an alias another reference made', () => {
    // `s` -> `t` makes `t` the Set; every `t.<last>` then walked the whole Set unpriced: a 64 KiB
    // header of 5000 such paths into a Set of 10 000 held the event loop ~0.7 s.
    const size = 10_000;
    const json = { s: Array.from({ length: size }, (_, i) => i), t: 0, o: {} };
    const paths = Array.from({ length: 5000 }, () => `t.${size - 1}`);
    const meta = { values: { s: ['set'] }, referentialEqualities: { s: ['t'], o: paths }, v: 1 };
    const handed = vi.spyOn(superjson, 'deserialize');
    try {
      const dropped = readDropped(sendRich(json, meta));
      expect(dropped[0]?.message).toMatch(/invalid superjson annotations/);
      expect(handed).not.toHaveBeenCalled();
    } finally {
      handed.mockRestore();
    }
  });

  it('still decodes a regexp of 4096 characters', () => {
    const pattern = new RegExp(`${'('.repeat(2046)}a${')'.repeat(2046)}`, 'g');
    const { json, meta } = superjson.serialize({ pattern });
    expect((json as { pattern: string }).pattern).toHaveLength(4096);
    const received = deserialize(sendRich(json, meta), { onDecodeError: 'throw' }).get(rich);
    expect(received).toEqual({ pattern });
  });

  it('still decodes shared objects nested in shared objects, as superjson writes them', () => {
    const inner = { n: 1 };
    const outer = { inner, set: new Set([inner]) };
    const value = { a: outer, b: outer, c: { inner }, d: [outer, inner] };
    const { json, meta } = superjson.serialize(value);
    const received = deserialize(sendRich(json, meta), { onDecodeError: 'throw' }).get(rich);
    expect(received).toEqual(value);
    const back = received as typeof value;
    expect(back.b).toBe(back.a);
    expect(back.c.inner).toBe(back.a.inner);
    expect([...back.a.set][0]).toBe(back.a.inner);
  });

  it('still decodes what superjson writes, references into small Sets included', () => {
    const shared = { id: 1 };
    const value = {
      at: new Date(0),
      big: 12n,
      gone: undefined,
      zero: -0,
      nan: Number.NaN,
      url: new URL('https://example.com/a'),
      pattern: /a+b/gi,
      bytes: new Uint8Array([1, 2]),
      map: new Map<unknown, unknown>([[new Date(1), new Set([1n, shared])]]),
      owner: shared,
      members: new Set([{ shared }, { shared }, shared]),
      'dot.ted': { 'back\\slash': new Date(2) },
      list: [[new Date(3)], { '01': new Date(4), '1': new Date(5) }],
    };
    const { json, meta } = superjson.serialize(value);
    const received = deserialize(sendRich(json, meta), { onDecodeError: 'throw' }).get(rich);
    expect(received).toEqual(value);
    const back = received as typeof value;
    expect(back.owner).toBe(([...back.members][0] as { shared: unknown }).shared);
  });
});
