/**
 * Golden vectors: bytes written by format 1, frozen in test/vectors/*.hex. If a change makes
 * these fail, it breaks compatibility with what is already on the wire: add a new format
 * version instead of changing how version 1 reads or writes.
 */
import { readFileSync } from 'node:fs';
import superjson from 'superjson';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DContextError,
  deserialize,
  initialize,
  type Snapshot,
  serialize,
  syncCtx,
  toDebugJSON,
} from '../../src/index.js';
import { inspectWire } from '../../src/wire/inspect.js';
import { CODECS, TYPICAL, vectorRegistry } from './support/vector-registry.js';
import { fromHex } from './support/wire-bytes.js';

beforeAll(() => initialize(vectorRegistry()));

function vector(name: string): Uint8Array {
  return fromHex(readFileSync(new URL(`../vectors/${name}.hex`, import.meta.url), 'utf8'));
}

/** Sets `values` in the current sync scope and serializes it. */
function serializeWith(values: Record<string, unknown>): Uint8Array {
  for (const [key, value] of Object.entries(values)) syncCtx.set(key, value);
  return serialize();
}

function values(received: Snapshot, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, received.get(name)]));
}

describe('golden vectors of format 1', () => {
  it('empty: decodes, and an empty context still encodes to it', () => {
    expect(deserialize(vector('empty')).scopeChain).toEqual([]);
    expect(serialize()).toEqual(vector('empty'));
  });

  it('typical: decodes to the benchmark context, which still encodes to the same bytes', () => {
    const received = deserialize(vector('typical'));
    expect(received.scopeChain).toEqual(['http', 'checkout']);
    expect(values(received, Object.keys(TYPICAL))).toEqual(TYPICAL);
    const again = syncCtx.scope('http', () =>
      syncCtx.scope('checkout', () => serializeWith(TYPICAL)),
    );
    expect(again).toEqual(vector('typical'));
  });

  it('codecs: decodes every codec, and re-encodes to the same bytes', () => {
    const received = deserialize(vector('codecs'), { onDecodeError: 'throw' });
    expect(values(received, Object.keys(CODECS))).toEqual(CODECS);
    expect(syncCtx.scope(() => serializeWith(CODECS))).toEqual(vector('codecs'));
  });

  it('versions: migrates the older value, keeps the newer, unknown and reserved ones opaque', () => {
    const received = deserialize(vector('versions'));
    expect(received.get('profile')).toEqual({ id: 'usr_1', roles: [], migrated: true });
    expect(received.get('request_id')).toBe('req-old');
    expect(received.get('theme')).toBe('light');
    expect(received.get('tenant')).toBeUndefined();
    expect(toDebugJSON(received).entries.filter((e) => e.opaque !== undefined)).toEqual([
      {
        key: 'theme',
        version: 5,
        codec: 'msgpack',
        value: { mode: 'dark', contrast: 'high' },
        opaque: 'newer-version',
      },
      { key: 'legacy_flag', version: 2, codec: 'msgpack', value: true, opaque: 'unknown-key' },
      { key: 'tenant', version: 1, codec: 'unknown', bytes: 5, opaque: 'unknown-codec' },
    ]);
    // Forwarded: every entry byte for byte (known keys first, in registration order).
    const forwarded = inspectWire(serialize(deserialize(vector('versions'))));
    expect(forwarded.entries.map((e) => e.key)).toEqual([
      'request_id',
      'profile',
      'theme',
      'legacy_flag',
      'tenant',
    ]);
    expect(forwarded.entries).toEqual(
      expect.arrayContaining(inspectWire(vector('versions')).entries as never[]),
    );
  });

  it('unicode: decodes non-ASCII names and values, and re-encodes to the same bytes', () => {
    const received = deserialize(vector('unicode'));
    expect(received.scopeChain).toEqual(['café', '処理']);
    expect(received.get('ключ')).toBe('👋 héllo');
    const again = syncCtx.scope('café', () =>
      syncCtx.scope('処理', () => serializeWith({ ключ: '👋 héllo' })),
    );
    expect(again).toEqual(vector('unicode'));
  });

  it('signed: verifies with its key, refuses another, and the same context signs to the same bytes', () => {
    const key = 'dcontext-golden-vector-key-000001';
    const received = deserialize(vector('signed'), { verifyKeys: [key] });
    expect(received.scopeChain).toEqual(['http']);
    expect(values(received, ['request_id', 'tenant'])).toEqual({
      request_id: 'r-1',
      tenant: 'acme',
    });
    expect(() =>
      deserialize(vector('signed'), { verifyKeys: ['another-key-of-32-bytes-00000000'] }),
    ).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    const again = syncCtx.scope('http', () => {
      syncCtx.set('request_id', 'r-1');
      syncCtx.set('tenant', 'acme');
      return serialize(undefined, { signingKey: key });
    });
    expect(again).toEqual(vector('signed'));
  });

  it('hostile-superjson: every entry is refused before superjson sees it, naming the key', () => {
    const handed = vi.spyOn(superjson, 'deserialize');
    const dropped: DContextError[] = [];
    try {
      const received = deserialize(vector('hostile-superjson'), {
        onDroppedEntry: (error) => dropped.push(error),
      });
      expect([received.get('rich'), received.get('user'), received.get('annotated')]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(handed).not.toHaveBeenCalled();
    } finally {
      handed.mockRestore();
    }
    expect(dropped.map((error) => [error.code, error.key])).toEqual([
      ['DECODE_FAILED', 'rich'],
      ['DECODE_FAILED', 'user'],
      ['DECODE_FAILED', 'annotated'],
    ]);
    expect(dropped[1]!.message).toMatch(
      /codec 'superjson' but is registered here with codec 'msgpack'/,
    );
  });

  it('every vector reads without a registry (what `dcontext decode` shows)', () => {
    expect(inspectWire(vector('typical'))).toEqual({
      format: 1,
      chain: ['http', 'checkout'],
      entries: Object.entries(TYPICAL).map(([key, value]) => ({
        key,
        version: 1,
        codec: 'msgpack',
        value,
      })),
    });
    expect(inspectWire(vector('codecs')).entries).toEqual([
      { key: 'bin', version: 1, codec: 'msgpack', value: { $binary: 'deadbeef' } },
      { key: 'when', version: 1, codec: 'msgpack', value: '2025-06-01T12:30:00.250Z' },
      { key: 'nums', version: 1, codec: 'msgpack', value: CODECS.nums },
      {
        key: 'rich',
        version: 1,
        codec: 'superjson',
        value: {
          at: '2025-06-01T12:30:00.250Z',
          seen: { $set: ['a', 'b'] },
          counts: { $map: [['x', '1n']] },
        },
      },
      { key: 'point', version: 1, codec: 'custom', bytes: 6 },
    ]);
  });
});
