import { beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  DContextError,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  type Snapshot,
  scope,
  scopeChain,
  serialize,
  serializeToString,
  snapshot,
  syncCtx,
  type ValueCodec,
  withContext,
} from '../../src/index.js';

interface Point {
  x: number;
  y: number;
}

const decodedWith: Uint8Array[] = [];
const pointCodec: ValueCodec<Point> = {
  encode: (point) => new Uint8Array([point.x, point.y]),
  decode: (bytes) => {
    decodedWith.push(bytes);
    return { x: bytes[0]!, y: bytes[1]! };
  },
};

const builder = new RegistryBuilder();
const text = builder.register<string>('text');
const count = builder.register<number>('count');
const flag = builder.register<boolean>('flag');
const nothing = builder.register<null>('nothing');
const list = builder.register<unknown[]>('list');
const record = builder.register<Record<string, unknown>>('record');
const binary = builder.register<Uint8Array>('binary');
const when = builder.register<Date>('when');
const rich = builder.register<unknown>('rich', { codec: 'superjson' });
const point = builder.register<Point>('point', { codec: pointCodec });
const secret = builder.registerLocal<string>('secret');
const untyped = builder.register<unknown>('untyped');
const broken = builder.register<string>('broken', {
  codec: { encode: () => 'nope' as unknown as Uint8Array, decode: () => '' },
});
beforeAll(() => initialize(builder));

/** Serializes `fill`'s context and returns the received snapshot. */
function roundTrip(fill: () => void): Snapshot {
  return syncCtx.scope(() => {
    fill();
    return deserialize(serialize());
  });
}

function roundTripBytes(fill: () => void): Uint8Array {
  return syncCtx.scope(() => {
    fill();
    return serialize();
  });
}

function roundTripValue(value: unknown, key = untyped): unknown {
  return roundTrip(() => syncCtx.set(key, value)).get(key);
}

describe('round trip with the default MessagePack codec', () => {
  it('carries strings, numbers, booleans, null, arrays, objects, binary and dates', () => {
    const received = roundTrip(() => {
      syncCtx.set(text, 'req-1');
      syncCtx.set(count, 42);
      syncCtx.set(flag, false);
      syncCtx.set(nothing, null);
      syncCtx.set(list, [1, 'two', [3], { four: 4 }, null, true]);
      syncCtx.set(record, { user: { id: 'u1', roles: ['admin'] }, n: -1.5 });
      syncCtx.set(binary, new Uint8Array([0, 1, 254, 255]));
      syncCtx.set(when, new Date('2025-01-02T03:04:05.678Z'));
    });
    expect(received.get(text)).toBe('req-1');
    expect(received.get(count)).toBe(42);
    expect(received.get(flag)).toBe(false);
    expect(received.get(nothing)).toBeNull();
    expect(received.get(list)).toEqual([1, 'two', [3], { four: 4 }, null, true]);
    expect(received.get(record)).toEqual({ user: { id: 'u1', roles: ['admin'] }, n: -1.5 });
    expect(received.get(binary)).toEqual(new Uint8Array([0, 1, 254, 255]));
    expect(received.get(when)).toEqual(new Date('2025-01-02T03:04:05.678Z'));
  });

  it.each([
    0,
    1,
    127,
    128,
    255,
    256,
    65_535,
    65_536,
    2 ** 32 - 1,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    -1,
    -32,
    -33,
    -128,
    -129,
    -32_768,
    -32_769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    Number.MIN_SAFE_INTEGER,
    1.5,
    -0.25,
    1e300,
    2 ** 53 + 2,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ])('carries the number %d', (value) => {
    expect(roundTripValue(value)).toBe(value);
  });

  it.each([
    ['empty', ''],
    ['accented', 'héllo wörld'],
    ['emoji', '👋🏽 context'],
    ['31 bytes', 'a'.repeat(31)],
    ['32 bytes', 'a'.repeat(32)],
    ['255 bytes', 'a'.repeat(255)],
    ['256 bytes', 'a'.repeat(256)],
    ['40 000 bytes', 'é'.repeat(20_000)],
  ])('carries a string: %s', (_label, value) => {
    expect(roundTripValue(value)).toBe(value);
  });

  it('carries large arrays and objects (16-bit headers)', () => {
    const array = Array.from({ length: 70 }, (_, i) => i);
    const object = Object.fromEntries(array.map((i) => [`k${i}`, i]));
    expect(roundTripValue(array)).toEqual(array);
    expect(roundTripValue(object)).toEqual(object);
  });

  it('refuses values MessagePack would silently lose, pointing at the superjson codec', () => {
    for (const value of [new Map([[1, 2]]), new Set([1]), /x/g, { nested: new Map() }]) {
      syncCtx.scope(() => {
        syncCtx.set(untyped, value);
        expect(() => serialize()).toThrow(/codec: 'superjson'/);
        expect(() => serialize()).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }));
      });
    }
    syncCtx.scope(() => {
      syncCtx.set(untyped, 10n);
      expect(() => serialize()).toThrow(
        expect.objectContaining({ code: 'ENCODE_FAILED', key: 'untyped' }),
      );
    });
  });
});

describe('the received snapshot owns its bytes', () => {
  it('does not change when the caller reuses the input buffer, before or after a read', () => {
    const bytes = roundTripBytes(() => {
      syncCtx.set(binary, new Uint8Array([1, 2, 3]));
      syncCtx.set(text, 'kept');
    });
    const received = deserialize(bytes);
    expect([...received.get(binary)!]).toEqual([1, 2, 3]);
    bytes.fill(0x11);
    expect([...received.get(binary)!]).toEqual([1, 2, 3]);
    expect(received.get(text)).toBe('kept');
  });
});

describe('round trip with the superjson codec', () => {
  it('carries Date, Map, Set, BigInt, RegExp, undefined in objects and non-finite numbers', () => {
    const value = {
      at: new Date('2024-02-29T12:00:00.000Z'),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set(['x'])],
      ]),
      big: 12_345_678_901_234_567_890n,
      pattern: /^req-\d+$/gi,
      missing: undefined,
      nan: Number.NaN,
      negativeZero: -0,
      list: [new Date(0), undefined],
    };
    const received = roundTripValue(value, rich) as typeof value;
    expect(received).toEqual(value);
    expect('missing' in received).toBe(true);
    expect(Object.is(received.negativeZero, -0)).toBe(true);
    expect(received.map).toBeInstanceOf(Map);
  });

  it('refuses an invalid Date with the default codec too, instead of delivering the epoch', () => {
    for (const value of [new Date(Number.NaN), { at: [new Date('not a date')] }]) {
      syncCtx.scope(() => {
        syncCtx.set(untyped, value);
        expect(() => serialize()).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }));
      });
    }
    expect(roundTripValue(new Date(5))).toEqual(new Date(5));
  });

  it('refuses an invalid Date up front instead of delivering null or the epoch', () => {
    // Found by the property test: Map { Set { Invalid Date } => {} } arrived as the epoch.
    for (const value of [new Map([[new Set([new Date(Number.NaN)]), {}]]), { at: new Date('x') }]) {
      syncCtx.scope(() => {
        syncCtx.set(rich, value);
        expect(() => serialize()).toThrow(expect.objectContaining({ code: 'ENCODE_FAILED' }));
      });
    }
  });
});

describe('round trip with a custom codec', () => {
  it('encodes with encode() and decodes a private copy of the bytes with decode()', () => {
    const received = roundTrip(() => syncCtx.set(point, { x: 3, y: 4 }));
    expect(received.get(point)).toEqual({ x: 3, y: 4 });
    expect(decodedWith.at(-1)).toEqual(new Uint8Array([3, 4]));
  });

  it('fails with ENCODE_FAILED when encode() does not return bytes', () => {
    syncCtx.scope(() => {
      syncCtx.set(broken, 'x');
      expect(() => serialize()).toThrow(
        expect.objectContaining({ code: 'ENCODE_FAILED', key: 'broken' }),
      );
    });
  });
});

describe('what crosses', () => {
  it('never writes local-only keys, which still travel in snapshots in the process', () => {
    syncCtx.scope(() => {
      syncCtx.set(secret, 'token-123');
      syncCtx.set(text, 'visible');
      const bytes = serialize();
      expect(Buffer.from(bytes).includes('secret')).toBe(false);
      expect(Buffer.from(bytes).includes('token-123')).toBe(false);
      expect(snapshot().get(secret)).toBe('token-123');
      const received = deserialize(bytes);
      expect(received.get(secret)).toBeUndefined();
      expect(received.get(text)).toBe('visible');
    });
  });

  it('makes the remote scope chain the prefix of the local one', async () => {
    const bytes = await scope('gateway', () => scope('checkout', () => serialize()));
    const chain = await withContext(deserialize(bytes), () => scope('worker', () => scopeChain()));
    expect(chain).toEqual(['gateway', 'checkout', 'worker']);
    expect(deserialize(bytes).scopeChain).toEqual(['gateway', 'checkout']);
  });

  it('serializes an empty context outside any scope', () => {
    expect([...serialize()]).toEqual([0x01, 0x90, 0x90]);
    expect(deserialize(serialize()).scopeChain).toEqual([]);
  });

  it('serializes values set after receiving, replacing the received ones', () => {
    const first = syncCtx.scope(() => {
      syncCtx.set(text, 'one');
      syncCtx.set(count, 1);
      return serialize();
    });
    const second = syncCtx.withContext(deserialize(first), () => {
      syncCtx.set(text, 'two');
      return serialize();
    });
    const received = deserialize(second);
    expect(received.get(text)).toBe('two');
    expect(received.get(count)).toBe(1);
  });
});

describe('string form', () => {
  it('is base64url and round-trips', () => {
    const received = syncCtx.scope(() => {
      syncCtx.set(text, 'header value ÿ');
      syncCtx.set(list, [1, 2, 3]);
      const header = serializeToString();
      expect(header).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(header).toBe(Buffer.from(serialize()).toString('base64url'));
      return deserialize(header);
    });
    expect(received.get(text)).toBe('header value ÿ');
    expect(received.get(list)).toEqual([1, 2, 3]);
  });

  it('accepts padded base64url', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(count, 7);
      return serialize();
    });
    const padded = Buffer.from(bytes).toString('base64');
    expect(deserialize(padded.replace(/\+/g, '-').replace(/\//g, '_')).get(count)).toBe(7);
  });
});

describe('store-level forms', () => {
  it('syncCtx.serialize / serializeToString write the sync context', () => {
    syncCtx.scope('sync-side', () => {
      syncCtx.set(text, 'from-sync');
      expect(deserialize(syncCtx.serialize()).get(text)).toBe('from-sync');
      expect(deserialize(syncCtx.serializeToString()).scopeChain).toEqual(['sync-side']);
    });
  });

  it('syncCtx.deserialize opens a scope and returns its guard', () => {
    const bytes = syncCtx.scope('remote', () => {
      syncCtx.set(text, 'remote-value');
      return syncCtx.serialize();
    });
    expect(syncCtx.get(text)).toBeUndefined();
    const guard = syncCtx.deserialize(bytes);
    try {
      expect(syncCtx.get(text)).toBe('remote-value');
      expect(syncCtx.scopeChain()).toEqual(['remote']);
      syncCtx.set(count, 5);
    } finally {
      guard.exit();
    }
    expect(syncCtx.get(text)).toBeUndefined();
    expect(syncCtx.isActive()).toBe(false);
  });

  it('asyncCtx.deserialize runs fn in the received context, as a new scope', async () => {
    const bytes = await asyncCtx.scope('producer', async () => {
      asyncCtx.set(text, 'job-ctx');
      return asyncCtx.serialize();
    });
    const result = await asyncCtx.deserialize(bytes, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [get(text), scopeChain()];
    });
    expect(result).toEqual(['job-ctx', ['producer']]);
    expect(asyncCtx.get(text)).toBeUndefined();
    expect(asyncCtx.deserialize(asyncCtx.serializeToString(), () => 'sync result')).toBe(
      'sync result',
    );
  });

  it('a store-level deserialize of bad input throws and opens nothing', () => {
    expect(() => syncCtx.deserialize('%%%')).toThrow(DContextError);
    expect(syncCtx.isActive()).toBe(false);
    let ran = false;
    expect(() =>
      asyncCtx.deserialize(new Uint8Array([9]), () => {
        ran = true;
      }),
    ).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
    expect(ran).toBe(false);
  });
});
