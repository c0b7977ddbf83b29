/**
 * Three services with different registries, one after the other in this process (the registry
 * is reset between them, as if each hop were its own process).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  deserialize,
  initialize,
  RegistryBuilder,
  scope,
  serialize,
  set,
  syncCtx,
  toDebugJSON,
  withContext,
} from '../../src/index.js';
import { resetRuntimeForTests } from '../../src/internal/testing.js';

afterEach(() => resetRuntimeForTests());

function service(keys: Record<string, 'msgpack' | 'superjson'>): RegistryBuilder {
  resetRuntimeForTests();
  const builder = new RegistryBuilder();
  for (const [name, codec] of Object.entries(keys)) builder.register(name, { codec });
  initialize(builder);
  return builder;
}

describe('unknown keys', () => {
  it('pass through a service that does not know them, across two hops, unchanged', async () => {
    service({ request_id: 'msgpack', cart: 'msgpack', placed_at: 'superjson' });
    const fromA = syncCtx.scope('a', () => {
      syncCtx.set('request_id', 'r-1');
      syncCtx.set('cart', { items: [1, 2] });
      syncCtx.set('placed_at', new Date('2025-05-05T00:00:00Z'));
      return serialize();
    });

    service({ request_id: 'msgpack' });
    const hopB = deserialize(fromA);
    expect(hopB.get('request_id')).toBe('r-1');
    expect(toDebugJSON(hopB).entries.map((e) => [e.key, e.opaque])).toEqual([
      ['request_id', undefined],
      ['cart', 'unknown-key'],
      ['placed_at', 'unknown-key'],
    ]);
    const fromB = await withContext(hopB, () =>
      scope('b', () => {
        set('request_id', 'r-1-b');
        return serialize();
      }),
    );

    service({ request_id: 'msgpack' });
    const fromB2 = serialize(deserialize(fromB));

    service({ request_id: 'msgpack', cart: 'msgpack', placed_at: 'superjson' });
    const atC = deserialize(fromB2);
    expect(atC.get('request_id')).toBe('r-1-b');
    expect(atC.get('cart')).toEqual({ items: [1, 2] });
    expect(atC.get('placed_at')).toEqual(new Date('2025-05-05T00:00:00Z'));
    expect(atC.scopeChain).toEqual(['a', 'b']);
  });

  it('are dropped with unknownEntries: drop', () => {
    service({ request_id: 'msgpack', cart: 'msgpack' });
    const bytes = syncCtx.scope(() => {
      syncCtx.set('cart', [1]);
      syncCtx.set('request_id', 'r');
      return serialize();
    });
    service({ request_id: 'msgpack' });
    const forwarded = serialize(deserialize(bytes, { unknownEntries: 'drop' }));
    service({ request_id: 'msgpack', cart: 'msgpack' });
    const received = deserialize(forwarded);
    expect(received.get('cart')).toBeUndefined();
    expect(received.get('request_id')).toBe('r');
  });
});
