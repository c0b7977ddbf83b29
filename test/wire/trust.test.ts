/**
 * Trust at the boundary: which keys an input may set (`accept`), and signed contexts
 * (`signingKey` / `verifyKeys`) for hops that are not trusted.
 */
import { createSecretKey } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  asyncCtx,
  type DContextError,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  serialize,
  serializeToString,
  syncCtx,
  toDebugJSON,
} from '../../src/index.js';
import { droppedEntries, MAX_REPORTED_DROPS } from '../../src/wire/decode.js';
import { inspectWire } from '../../src/wire/inspect.js';
import { concat, wireBytes } from './support/wire-bytes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
builder.register<string>('user', { version: 1 });
beforeAll(() => initialize(builder));

function reporter(): { reports: DContextError[]; onDroppedEntry: (e: DContextError) => void } {
  const reports: DContextError[] = [];
  return { reports, onDroppedEntry: (error) => reports.push(error) };
}

// A forged header: a caller sets the tenant, plus an unknown key and a newer version of 'user'.
const forged = wireBytes(
  [],
  [
    { name: 'request_id', version: 1, value: 'r-1' },
    { name: 'tenant', version: 1, value: 'victim-corp' },
    { name: 'plan', version: 1, value: 'enterprise' },
    { name: 'user', version: 9, value: 'admin' },
  ],
);

describe('accept', () => {
  it("takes every key by default ('all')", () => {
    const received = deserialize(forged);
    expect(received.get(tenant)).toBe('victim-corp');
    expect(toDebugJSON(received).entries.map((e) => e.key)).toEqual([
      'request_id',
      'tenant',
      'plan',
      'user',
    ]);
  });

  it('drops and reports, as NOT_ACCEPTED naming the key, every entry the list does not name', () => {
    const { reports, onDroppedEntry } = reporter();
    const received = deserialize(forged, { accept: ['request_id'], onDroppedEntry });
    expect(received.get(requestId)).toBe('r-1');
    expect(received.get(tenant)).toBeUndefined();
    expect(reports.map((e) => [e.code, e.key])).toEqual([
      ['NOT_ACCEPTED', 'tenant'],
      ['NOT_ACCEPTED', 'plan'],
      ['NOT_ACCEPTED', 'user'],
    ]);
    expect(reports[0]!.message).toMatch(/'tenant'.*accept/);
  });

  it('names the first 16 refused entries and counts the rest in one report, however many a hostile input carries', () => {
    // A thousand tiny unknown entries: one error object each (with its stack trace) made such a
    // header cost a receiver ~20 ms of CPU; the reports are bounded, the count stays exact.
    const many = wireBytes(
      [],
      [
        { name: 'request_id', version: 1, value: 'r-1' },
        ...Array.from({ length: 1000 }, (_, i) => ({ name: `k${i}`, version: 1, value: i })),
      ],
    );
    for (const accept of ['none', ['request_id']] as const) {
      const { reports, onDroppedEntry } = reporter();
      const received = deserialize(many, { accept: accept as never, onDroppedEntry });
      expect(reports).toHaveLength(MAX_REPORTED_DROPS + 1);
      expect(reports.every((e) => e.code === 'NOT_ACCEPTED')).toBe(true);
      const dropped = accept === 'none' ? 1001 : 1000;
      expect(reports.slice(0, MAX_REPORTED_DROPS).map((e) => e.key)).toEqual(
        (accept === 'none' ? ['request_id'] : [])
          .concat(Array.from({ length: 16 }, (_, i) => `k${i}`))
          .slice(0, MAX_REPORTED_DROPS),
      );
      const summary = reports[MAX_REPORTED_DROPS]!;
      expect(summary.key).toBeUndefined();
      expect(summary.message).toContain(`${dropped - MAX_REPORTED_DROPS} more context entries`);
      expect(reports.reduce((n, e) => n + droppedEntries(e), 0)).toBe(dropped);
      expect(received.get(requestId)).toBe(accept === 'none' ? undefined : 'r-1');
    }
  });

  it('reports each refused entry by name when there are no more than 16', () => {
    const sixteen = wireBytes(
      [],
      Array.from({ length: 16 }, (_, i) => ({ name: `k${i}`, version: 1, value: i })),
    );
    const { reports, onDroppedEntry } = reporter();
    deserialize(sixteen, { accept: ['request_id'], onDroppedEntry });
    expect(reports.map((e) => e.key)).toEqual(Array.from({ length: 16 }, (_, i) => `k${i}`));
  });

  it('warns with code DCONTEXT_NOT_ACCEPTED when no onDroppedEntry is given', () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      deserialize(forged, { accept: ['request_id', 'plan', 'user'] });
      expect(emitted).toHaveBeenCalledWith(expect.stringContaining("'tenant'"), {
        type: 'DContextWarning',
        code: 'DCONTEXT_NOT_ACCEPTED',
      });
    } finally {
      emitted.mockRestore();
    }
  });

  it('does not forward a pass-through entry it does not accept', () => {
    const received = deserialize(forged, { accept: ['request_id'], onDroppedEntry: () => {} });
    const sent = inspectWire(serialize(received));
    expect(sent.entries.map((e) => e.key)).toEqual(['request_id']);
  });

  it('forwards pass-through entries the list names', () => {
    const received = deserialize(forged, {
      accept: ['request_id', 'plan', 'user'],
      onDroppedEntry: () => {},
    });
    const sent = inspectWire(serialize(received));
    expect(sent.entries.map((e) => e.key)).toEqual(['request_id', 'plan', 'user']);
  });

  it("takes ContextKey objects in the list (by name), and 'none'", () => {
    const { reports, onDroppedEntry } = reporter();
    const received = deserialize(forged, { accept: [tenant], onDroppedEntry });
    expect(received.get(tenant)).toBe('victim-corp');
    expect(received.get(requestId)).toBeUndefined();
    expect(reports).toHaveLength(3);
    const none = reporter();
    const empty = deserialize(forged, { accept: 'none', onDroppedEntry: none.onDroppedEntry });
    expect(toDebugJSON(empty).entries).toEqual([]);
    expect(none.reports.map((e) => e.key)).toEqual(['request_id', 'tenant', 'plan', 'user']);
  });

  it('drops without throwing under onDecodeError: throw, and still refuses a key sent twice', () => {
    const { reports, onDroppedEntry } = reporter();
    const received = deserialize(forged, {
      accept: ['request_id'],
      onDecodeError: 'throw',
      onDroppedEntry,
    });
    expect(received.get(requestId)).toBe('r-1');
    expect(reports).toHaveLength(3);
    const twice = wireBytes(
      [],
      [
        { name: 'tenant', version: 1, value: 'a' },
        { name: 'tenant', version: 1, value: 'b' },
      ],
    );
    expect(() => deserialize(twice, { accept: 'none', onDroppedEntry })).toThrow(/appears twice/);
  });

  it('applies to the stores’ deserialize', async () => {
    const options = { accept: ['request_id'], onDroppedEntry: () => {} };
    expect(await asyncCtx.deserialize(forged, async () => get(tenant), options)).toBeUndefined();
    using _guard = syncCtx.deserialize(forged, options);
    expect(syncCtx.get(requestId)).toBe('r-1');
    expect(syncCtx.get(tenant)).toBeUndefined();
  });
});

describe('signed contexts', () => {
  const key = 'k'.repeat(32);
  const previous = new Uint8Array(32).fill(7);
  const sample = () =>
    syncCtx.scope('s', () => {
      syncCtx.set(requestId, 'r-1');
      syncCtx.set(tenant, 'acme');
      return { plain: serialize(), signed: serialize(undefined, { signingKey: key }) };
    });

  it('appends a bin8 tag of 32 bytes to the format-1 message', () => {
    const { plain, signed } = sample();
    expect(signed.length).toBe(plain.length + 34);
    expect(signed.subarray(0, plain.length)).toEqual(plain);
    expect([...signed.subarray(plain.length, plain.length + 2)]).toEqual([0xc4, 0x20]);
  });

  it('verifies with the current or a previous key (rotation), bytes or string', () => {
    const { signed } = sample();
    expect(deserialize(signed, { verifyKeys: [key] }).get(tenant)).toBe('acme');
    expect(deserialize(signed, { verifyKeys: [previous, key] }).get(tenant)).toBe('acme');
    const text = syncCtx.scope(() => {
      syncCtx.set(tenant, 'acme');
      return serializeToString(undefined, { signingKey: previous });
    });
    expect(deserialize(text, { verifyKeys: [key, previous] }).get(tenant)).toBe('acme');
    const keyObject = createSecretKey(Buffer.from(key));
    expect(deserialize(signed, { verifyKeys: [keyObject] }).get(tenant)).toBe('acme');
  });

  it('refuses an unsigned, altered or otherwise-signed input with BAD_SIGNATURE', () => {
    const { plain, signed } = sample();
    const badSignature = expect.objectContaining({ code: 'BAD_SIGNATURE' });
    expect(() => deserialize(plain, { verifyKeys: [key] })).toThrow(badSignature);
    expect(() => deserialize(plain, { verifyKeys: [key] })).toThrow(/not signed/);
    expect(() => deserialize(signed, { verifyKeys: [previous] })).toThrow(/does not match/);
    for (let at = 0; at < signed.length; at++) {
      const altered = signed.slice();
      altered[at]! ^= 1;
      expect(() => deserialize(altered, { verifyKeys: [key] })).toThrow(badSignature);
    }
    // A forged tenant with a tag of the right shape but no key.
    const forgedSigned = concat(forged, [0xc4, 0x20], new Uint8Array(32));
    expect(() => deserialize(forgedSigned, { verifyKeys: [key] })).toThrow(badSignature);
  });

  it('verifies before reading anything else in the input', () => {
    const garbage = concat([9, 9, 9], [0xc4, 0x20], new Uint8Array(32));
    expect(() => deserialize(garbage, { verifyKeys: [key] })).toThrow(
      expect.objectContaining({ code: 'BAD_SIGNATURE' }),
    );
  });

  it('accepts a signed input without verifyKeys, ignoring the tag', () => {
    const { signed } = sample();
    expect(deserialize(signed).get(tenant)).toBe('acme');
    expect(inspectWire(signed).entries.map((e) => e.key)).toEqual(['request_id', 'tenant']);
  });

  it('signs through the stores’ serialize too', () => {
    syncCtx.scope(() => {
      syncCtx.set(tenant, 'acme');
      const bytes = syncCtx.serialize({ signingKey: key });
      const text = syncCtx.serializeToString({ signingKey: key });
      expect(deserialize(bytes, { verifyKeys: [key] }).get(tenant)).toBe('acme');
      expect(deserialize(text, { verifyKeys: [key] }).get(tenant)).toBe('acme');
    });
    const bytes = asyncCtx.scope(() => asyncCtx.serialize({ signingKey: key }));
    expect(deserialize(bytes, { verifyKeys: [key] }).scopeChain).toEqual([]);
  });

  it.each([
    ['a key under 16 bytes', 'short'],
    ['a 15-byte Uint8Array', new Uint8Array(15)],
    ['a number', 42],
    ['null', null],
  ])('refuses %s as a key with INVALID_ARGUMENT', (_label, bad) => {
    const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' });
    expect(() => serialize(undefined, { signingKey: bad as never })).toThrow(invalid);
    expect(() => serializeToString(undefined, { signingKey: bad as never })).toThrow(invalid);
    expect(() =>
      deserialize(new Uint8Array([1, 0x90, 0x90]), { verifyKeys: [bad as never] }),
    ).toThrow(invalid);
  });

  it('refuses a verifyKeys list with a hole with INVALID_ARGUMENT, not DECODE_FAILED', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const holed = [, key] as never;
    expect(() => deserialize(new Uint8Array([1, 0x90, 0x90]), { verifyKeys: holed })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
