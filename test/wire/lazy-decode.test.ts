import { encode } from '@msgpack/msgpack';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DContextError,
  deserialize,
  initialize,
  RegistryBuilder,
  serialize,
  syncCtx,
  toDebugJSON,
  withContext,
} from '../../src/index.js';
import { wireBytes } from './support/wire-bytes.js';

let decodes = 0;
const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', { default: () => 'none' });
const money = builder.register<bigint>('money', {
  codec: {
    encode: (value) => new TextEncoder().encode(value.toString()),
    decode: (bytes) => {
      decodes++;
      return BigInt(new TextDecoder().decode(bytes));
    },
  },
});
const port = builder.register<number>('port', { validate: (v) => Number.isInteger(v) });
const session = builder.registerLocal<string>('session');
builder.register<Set<string>>('tags', { codec: 'superjson' });
beforeAll(() => initialize(builder));

function reporter(): { reports: DContextError[]; onDroppedEntry: (e: DContextError) => void } {
  const reports: DContextError[] = [];
  return { reports, onDroppedEntry: (error) => reports.push(error) };
}

// A map keyed by an array: valid MessagePack, but not a value this decoder accepts.
const BAD_PAYLOAD = new Uint8Array([0x81, 0x91, 0x01, 0x02]);
const PROTO_PAYLOAD = new Uint8Array([
  0x81,
  0xa9,
  ...Buffer.from('__proto__'),
  0x81,
  0xa1,
  0x78,
  0x01,
]);

describe('lazy decoding', () => {
  it('decodes an entry on the first read of its key, once', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(money, 10n ** 20n);
      syncCtx.set(requestId, 'r');
      return serialize();
    });
    decodes = 0;
    const received = deserialize(bytes);
    expect(decodes).toBe(0);
    expect(received.get(requestId)).toBe('r');
    expect(decodes).toBe(0);
    expect(received.get(money)).toBe(10n ** 20n);
    expect(received.get(money)).toBe(10n ** 20n);
    expect(decodes).toBe(1);
  });

  it('shares one decode between the snapshot and scopes made from it', async () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(money, 5n);
      return serialize();
    });
    decodes = 0;
    const received = deserialize(bytes);
    await withContext(received, () => {
      expect(syncCtx.get(money)).toBeUndefined(); // the sync store is not the async one
    });
    await withContext(received, async () => {
      const { get } = await import('../../src/index.js');
      expect(get(money)).toBe(5n);
    });
    expect(received.get(money)).toBe(5n);
    expect(decodes).toBe(1);
  });

  it('lets a scope replace or delete an entry not decoded yet without touching its parent or siblings', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(money, 7n);
      syncCtx.set(requestId, 'r');
      return serialize();
    });
    const received = deserialize(bytes);
    syncCtx.withContext(received, () => {
      syncCtx.scope(() => {
        syncCtx.delete(money);
        expect(syncCtx.get(money)).toBeUndefined();
        expect(syncCtx.snapshot().has(money)).toBe(false);
        expect(deserialize(serialize()).has(money)).toBe(false);
      });
      syncCtx.scope(() => {
        syncCtx.set(money, 8n);
        syncCtx.delete(money); // the entry that arrived must not come back
        expect(syncCtx.get(money)).toBeUndefined();
      });
      syncCtx.scope(() => {
        syncCtx.set(requestId, 'sibling'); // copies the slot array, entry still undecoded
        expect(syncCtx.get(money)).toBe(7n);
      });
      expect(syncCtx.get(money)).toBe(7n);
    });
    expect(received.with(requestId, 'x').get(money)).toBe(7n);
    expect(received.with(money, undefined).has(money)).toBe(false);
    expect(received.get(money)).toBe(7n);
  });

  it('drops a bad entry on its first read, reports it once, and the key reads as unset', () => {
    const { reports, onDroppedEntry } = reporter();
    const bytes = wireBytes(
      [],
      [
        { name: 'tenant', version: 1, payload: BAD_PAYLOAD },
        { name: 'request_id', version: 1, value: 'still-fine' },
      ],
    );
    const received = deserialize(bytes, { onDroppedEntry });
    expect(reports).toHaveLength(0);
    expect(received.get(requestId)).toBe('still-fine');
    expect(received.get(tenant)).toBe('none');
    expect(received.has(tenant)).toBe(false);
    expect(received.get(tenant)).toBe('none');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: 'DECODE_FAILED', key: 'tenant' });
    expect(reports[0]!.message).toMatch(/^context entry 'tenant' from the wire is unusable/);
  });

  it('rejects maps with a __proto__ key without touching any prototype', () => {
    const { reports, onDroppedEntry } = reporter();
    const bytes = wireBytes([], [{ name: 'tenant', version: 1, payload: PROTO_PAYLOAD }]);
    expect(deserialize(bytes, { onDroppedEntry }).get(tenant)).toBe('none');
    expect(reports).toHaveLength(1);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('rejects values that fail validate() like bad entries', () => {
    const { reports, onDroppedEntry } = reporter();
    const bytes = wireBytes([], [{ name: 'port', version: 1, value: 'eighty' }]);
    expect(deserialize(bytes, { onDroppedEntry }).get(port)).toBeUndefined();
    expect(reports[0]!.message).toContain('validate()');
    expect(deserialize(wireBytes([], [{ name: 'port', version: 1, value: 80 }])).get(port)).toBe(
      80,
    );
  });

  it('rejects a custom-codec payload for a key registered with another codec', () => {
    const { reports, onDroppedEntry } = reporter();
    const payload = new Uint8Array([0xc4, 0x01, 0x41]);
    const bytes = wireBytes([], [{ name: 'request_id', version: 1, codec: 2, payload }]);
    expect(deserialize(bytes, { onDroppedEntry }).get(requestId)).toBeUndefined();
    expect(reports[0]!.message).toContain(
      "sent with codec 'custom' but is registered here with codec 'msgpack'",
    );
  });

  it('refuses a superjson payload for a msgpack key, naming the key and both codecs', () => {
    const { reports, onDroppedEntry } = reporter();
    const payload = encode([{ a: 1 }, { values: { a: ['Date'] }, v: 1 }]);
    const bytes = wireBytes([], [{ name: 'request_id', version: 1, codec: 1, payload }]);
    expect(deserialize(bytes, { onDroppedEntry }).get(requestId)).toBeUndefined();
    expect(reports).toEqual([
      expect.objectContaining({
        code: 'DECODE_FAILED',
        key: 'request_id',
        message: expect.stringContaining(
          "codec 'superjson' but is registered here with codec 'msgpack'",
        ),
      }),
    ]);
    expect(() => deserialize(bytes, { onDecodeError: 'throw' })).toThrow(/request_id/);
  });

  it('refuses a msgpack payload for a superjson key', () => {
    const { reports, onDroppedEntry } = reporter();
    const bytes = wireBytes([], [{ name: 'tags', version: 1, codec: 0, value: [1, 2] }]);
    expect(deserialize(bytes, { onDroppedEntry }).get('tags')).toBeUndefined();
    expect(reports[0]!.message).toContain(
      "codec 'msgpack' but is registered here with codec 'superjson'",
    );
  });

  it('drops, at once, entries for keys that are local-only here', () => {
    const { reports, onDroppedEntry } = reporter();
    const bytes = wireBytes([], [{ name: 'session', version: 1, value: 'stolen' }]);
    const received = deserialize(bytes, { onDroppedEntry });
    expect(received.get(session)).toBeUndefined();
    expect(reports[0]).toMatchObject({ key: 'session' });
  });

  it('reports through process warnings when no onDroppedEntry is given', () => {
    // Captured (not printed): a clean test run shows no warning.
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const bytes = wireBytes([], [{ name: 'tenant', version: 1, payload: BAD_PAYLOAD }]);
      deserialize(bytes).get(tenant);
      expect(emitted).toHaveBeenCalledTimes(1);
      expect(emitted).toHaveBeenCalledWith(expect.stringContaining("context entry 'tenant'"), {
        type: 'DContextWarning',
        code: 'DCONTEXT_DECODE',
      });
    } finally {
      emitted.mockRestore();
    }
  });
});

describe("onDecodeError: 'throw'", () => {
  it('decodes every entry during deserialize', () => {
    const bytes = syncCtx.scope(() => {
      syncCtx.set(money, 1n);
      return serialize();
    });
    decodes = 0;
    const received = deserialize(bytes, { onDecodeError: 'throw' });
    expect(decodes).toBe(1);
    expect(received.get(money)).toBe(1n);
  });

  it('makes deserialize throw DECODE_FAILED naming the first bad key', () => {
    const bytes = wireBytes(
      [],
      [
        { name: 'request_id', version: 1, value: 'ok' },
        { name: 'tenant', version: 1, payload: BAD_PAYLOAD },
      ],
    );
    expect(() => deserialize(bytes, { onDecodeError: 'throw' })).toThrow(
      expect.objectContaining({ code: 'DECODE_FAILED', key: 'tenant' }),
    );
  });
});

describe('forwarding', () => {
  const upstream = (): Uint8Array =>
    syncCtx.scope('upstream', () => {
      syncCtx.set(requestId, 'r-42');
      syncCtx.set(tenant, 'acme');
      syncCtx.set(money, 99n);
      syncCtx.set(port, 8080);
      return serialize();
    });

  it('re-serializes an unread snapshot byte for byte, without decoding anything', () => {
    const bytes = upstream();
    decodes = 0;
    const forwarded = serialize(deserialize(bytes));
    expect(Buffer.from(forwarded).equals(Buffer.from(bytes))).toBe(true);
    expect(decodes).toBe(0);
  });

  it('copies untouched entries and re-encodes only what was read or set', () => {
    const bytes = upstream();
    decodes = 0;
    const received = deserialize(bytes);
    received.get(requestId);
    const forwarded = serialize(received);
    expect(Buffer.from(forwarded).equals(Buffer.from(bytes))).toBe(true);
    expect(decodes).toBe(0);
    const changed = syncCtx.withContext(received, () => {
      syncCtx.set(tenant, 'globex');
      return serialize();
    });
    const again = deserialize(changed);
    expect([again.get(requestId), again.get(tenant), again.get(money), again.get(port)]).toEqual([
      'r-42',
      'globex',
      99n,
      8080,
    ]);
  });

  it('forwards entries with an unknown codec tag as opaque', () => {
    const payload = new Uint8Array([0xc0]);
    const bytes = wireBytes([], [{ name: 'tenant', version: 1, codec: 3, payload }]);
    const received = deserialize(bytes);
    expect(received.get(tenant)).toBe('none');
    expect(toDebugJSON(received).entries[0]).toMatchObject({
      key: 'tenant',
      opaque: 'unknown-codec',
    });
    expect(Buffer.from(serialize(received)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('does not forward a bad entry once it was read and dropped', () => {
    const bytes = wireBytes([], [{ name: 'tenant', version: 1, payload: BAD_PAYLOAD }]);
    const received = deserialize(bytes, { onDroppedEntry: () => {} });
    received.get(tenant);
    expect([...serialize(received)]).toEqual([1, 0x90, 0x90]);
  });
});
