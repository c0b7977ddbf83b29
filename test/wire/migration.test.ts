import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  deserialize,
  initialize,
  RegistryBuilder,
  serialize,
  syncCtx,
  toDebugJSON,
} from '../../src/index.js';
import { entryBytes, wireBytes } from './support/wire-bytes.js';

interface UserV3 {
  id: string;
  roles: string[];
  tier: 'free' | 'paid';
}

const builder = new RegistryBuilder();
// v1 sent a bare id string, v2 an object with roles, v3 added the tier.
const user = builder.register<UserV3>('user', {
  version: 3,
  default: () => ({ id: 'anonymous', roles: [], tier: 'free' }),
  validate: (value) => typeof (value as UserV3 | null)?.id === 'string',
});
builder.registerMigration('user', 1, (id) => ({ id, roles: [] }));
builder.registerMigration('user', 2, (v2) => ({ ...(v2 as object), tier: 'free' }));
// 'locale' is at version 2 but nobody registered how to upgrade version 1.
const locale = builder.register<string>('locale', { version: 2, default: () => 'en' });
const retries = builder.register<number>('retries', { version: 2 });
builder.registerMigration('retries', 1, () => {
  throw new Error('cannot upgrade retries');
});
beforeAll(() => initialize(builder));

function collect(): { reports: DContextError[]; onDroppedEntry: (e: DContextError) => void } {
  const reports: DContextError[] = [];
  return { reports, onDroppedEntry: (error) => reports.push(error) };
}

describe('values from older senders', () => {
  it('migrate step by step from version 1 to 3', () => {
    const bytes = wireBytes([], [{ name: 'user', version: 1, value: 'u-7' }]);
    expect(deserialize(bytes).get(user)).toEqual({ id: 'u-7', roles: [], tier: 'free' });
  });

  it('migrate from version 2 with only the remaining step', () => {
    const bytes = wireBytes([], [{ name: 'user', version: 2, value: { id: 'u-8', roles: ['a'] } }]);
    expect(deserialize(bytes).get(user)).toEqual({ id: 'u-8', roles: ['a'], tier: 'free' });
  });

  it('are used as they are at the current version', () => {
    const v3 = { id: 'u-9', roles: [], tier: 'paid' };
    expect(deserialize(wireBytes([], [{ name: 'user', version: 3, value: v3 }])).get(user)).toEqual(
      v3,
    );
  });

  it('are dropped and reported when a migration step is missing', () => {
    const { reports, onDroppedEntry } = collect();
    const received = deserialize(wireBytes([], [{ name: 'locale', version: 1, value: 'fr' }]), {
      onDroppedEntry,
    });
    expect(received.get(locale)).toBe('en');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: 'DECODE_FAILED', key: 'locale' });
    expect(reports[0]!.message).toContain("registerMigration('locale', 1, fn)");
  });

  it('are dropped and reported when a migration throws', () => {
    const { reports, onDroppedEntry } = collect();
    const received = deserialize(wireBytes([], [{ name: 'retries', version: 1, value: 3 }]), {
      onDroppedEntry,
    });
    expect(received.get(retries)).toBeUndefined();
    expect(reports[0]!.message).toContain('cannot upgrade retries');
  });

  it('are checked with validate() after migration', () => {
    const { reports, onDroppedEntry } = collect();
    const bytes = wireBytes([], [{ name: 'user', version: 2, value: { name: 'no id' } }]);
    expect(deserialize(bytes, { onDroppedEntry }).get(user)).toEqual({
      id: 'anonymous',
      roles: [],
      tier: 'free',
    });
    expect(reports[0]!.message).toContain('validate()');
  });

  it('make deserialize throw in eager mode', () => {
    const bytes = wireBytes([], [{ name: 'locale', version: 1, value: 'fr' }]);
    expect(() => deserialize(bytes, { onDecodeError: 'throw' })).toThrow(
      expect.objectContaining({ code: 'DECODE_FAILED', key: 'locale' }),
    );
  });

  it('are forwarded at their own version when not read', () => {
    const entry = { name: 'user', version: 1, value: 'u-1' } as const;
    const bytes = wireBytes(['a'], [entry]);
    expect(Buffer.from(serialize(deserialize(bytes))).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('values from newer senders', () => {
  it('are kept opaque: get returns the default, and they are forwarded unchanged', () => {
    const newer = { name: 'user', version: 4, value: { id: 'u-4', v4field: true } } as const;
    const bytes = wireBytes(['edge'], [newer, { name: 'locale', version: 2, value: 'de' }]);
    const received = deserialize(bytes);
    expect(received.get(user)).toEqual({ id: 'anonymous', roles: [], tier: 'free' });
    expect(received.has(user)).toBe(false);
    expect(received.get(locale)).toBe('de');
    const forwarded = serialize(received);
    expect(Buffer.from(forwarded).includes(Buffer.from(entryBytes(newer)))).toBe(true);
    expect(toDebugJSON(received).entries).toContainEqual({
      key: 'user',
      version: 4,
      codec: 'msgpack',
      value: { id: 'u-4', v4field: true },
      opaque: 'newer-version',
    });
  });

  it('are replaced by a value set locally before forwarding', () => {
    const bytes = wireBytes([], [{ name: 'user', version: 4, value: 'future' }]);
    const forwarded = syncCtx.withContext(deserialize(bytes), () => {
      syncCtx.set(user, { id: 'local', roles: [], tier: 'paid' });
      return serialize();
    });
    const again = deserialize(forwarded);
    expect(again.get(user)).toEqual({ id: 'local', roles: [], tier: 'paid' });
    expect(toDebugJSON(again).entries.filter((e) => e.key === 'user')).toHaveLength(1);
  });

  it('are dropped with unknownEntries: drop', () => {
    const bytes = wireBytes([], [{ name: 'user', version: 9, value: 'x' }]);
    const received = deserialize(bytes, { unknownEntries: 'drop' });
    expect([...serialize(received)]).toEqual([1, 0x90, 0x90]);
  });
});
