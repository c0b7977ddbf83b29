import { beforeAll, describe, expect, it } from 'vitest';
import { deserialize, initialize, RegistryBuilder, syncCtx, toDebugJSON } from '../../src/index.js';
import { wireBytes } from './support/wire-bytes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const when = builder.register<unknown>('when', { codec: 'superjson', version: 2 });
const span = builder.register<{ id: bigint }>('span', {
  codec: { encode: () => new Uint8Array([1]), decode: () => ({ id: 1n }) },
});
const secret = builder.registerLocal<string>('secret');
beforeAll(() => initialize(builder));

describe('toDebugJSON', () => {
  it('shows chain, keys, versions, codecs, JSON-safe values and the local flag', () => {
    const view = syncCtx.scope('ingress', () => {
      syncCtx.set(requestId, 'r-1');
      syncCtx.set(when, { at: new Date(0), tags: new Set(['a']), n: Number.NaN });
      syncCtx.set(span, { id: 2n ** 64n });
      syncCtx.set(secret, 'hidden-from-wire');
      return toDebugJSON(syncCtx.snapshot());
    });
    expect(view).toEqual({
      format: 1,
      chain: ['ingress'],
      entries: [
        { key: 'request_id', version: 1, codec: 'msgpack', value: 'r-1' },
        {
          key: 'when',
          version: 2,
          codec: 'superjson',
          value: { at: '1970-01-01T00:00:00.000Z', tags: { $set: ['a'] }, n: 'NaN' },
        },
        { key: 'span', version: 1, codec: 'custom', value: { id: '18446744073709551616n' } },
        { key: 'secret', version: 1, codec: 'msgpack', value: 'hidden-from-wire', local: true },
      ],
    });
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });

  it('lists opaque entries with why they are opaque, and survives cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const received = deserialize(
      wireBytes([], [{ name: 'from_elsewhere', version: 3, value: [1, { deep: true }] }]),
    );
    const view = syncCtx.withContext(received, () => {
      syncCtx.set(when, cyclic);
      return toDebugJSON(syncCtx.snapshot());
    });
    expect(view.entries).toEqual([
      { key: 'when', version: 2, codec: 'superjson', value: { name: 'loop', self: '[Circular]' } },
      {
        key: 'from_elsewhere',
        version: 3,
        codec: 'msgpack',
        value: [1, { deep: true }],
        opaque: 'unknown-key',
      },
    ]);
  });
});
