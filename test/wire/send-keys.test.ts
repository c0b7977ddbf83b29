/**
 * Bounded send: `serialize(snapshot, { keys })` writes only the named keys, registered ones and
 * entries forwarded opaquely from upstream alike, so an edge can keep context off a party that
 * needs only part of it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  deserialize,
  initialize,
  RegistryBuilder,
  serialize,
  serializeToString,
  syncCtx,
  toDebugJSON,
} from '../../src/index.js';
import { wireBytes } from './support/wire-bytes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const secret = builder.registerLocal<string>('secret');
beforeAll(() => initialize(builder));

// Received from upstream: two registered keys and two this process does not know.
const upstream = wireBytes(
  ['edge'],
  [
    { name: 'request_id', version: 1, value: 'r-1' },
    { name: 'tenant', version: 1, value: 'acme' },
    { name: 'plan', version: 1, value: 'gold' },
    { name: 'cart', version: 1, value: 'c-9' },
  ],
);

const sentKeys = (bytes: Uint8Array | string): string[] =>
  toDebugJSON(deserialize(bytes)).entries.map((entry) => entry.key);

describe('serialize option keys', () => {
  it('sends every key, forwarded ones included, by default and with "all"', () => {
    const received = deserialize(upstream);
    expect(sentKeys(serialize(received))).toEqual(['request_id', 'tenant', 'plan', 'cart']);
    expect(sentKeys(serialize(received, { keys: 'all' }))).toEqual(sentKeys(serialize(received)));
  });

  it('sends only the listed registered keys, by name or key object', () => {
    const received = deserialize(upstream);
    expect(sentKeys(serialize(received, { keys: [requestId] }))).toEqual(['request_id']);
    expect(sentKeys(serializeToString(received, { keys: ['tenant'] }))).toEqual(['tenant']);
  });

  it('bounds opaque pass-through entries too: an unknown key rides on only when listed', () => {
    const received = deserialize(upstream);
    expect(sentKeys(serialize(received, { keys: ['request_id', 'cart'] }))).toEqual([
      'request_id',
      'cart',
    ]);
    expect(sentKeys(serialize(received, { keys: [] }))).toEqual([]);
  });

  it('keeps the scope chain whatever keys are sent', () => {
    const sent = deserialize(serialize(deserialize(upstream), { keys: [] }));
    expect(sent.scopeChain).toEqual(['edge']);
  });

  it('never sends a local-only key, even when listed', () => {
    const header = syncCtx.scope(() => {
      syncCtx.set(secret, 's3cret');
      syncCtx.set(tenant, 'acme');
      return syncCtx.serializeToString({ keys: [secret, tenant] });
    });
    expect(sentKeys(header)).toEqual(['tenant']);
  });

  it('applies to the stores’ serialize and combines with signing', async () => {
    const signingKey = 'a-signing-key-of-32-bytes-length';
    const header = await asyncCtx.scope(async () => {
      asyncCtx.set(requestId, 'r-2');
      asyncCtx.set(tenant, 'acme');
      return asyncCtx.serializeToString({ keys: ['request_id'], signingKey });
    });
    const received = deserialize(header, { verifyKeys: [signingKey] });
    expect(received.get(requestId)).toBe('r-2');
    expect(received.has(tenant)).toBe(false);
  });

  it('refuses a keys value that means nothing with INVALID_ARGUMENT', () => {
    expect(() => serialize(undefined, { keys: 'none' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => serialize(undefined, { keys: [42] as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
