/**
 * Contexts sent as a difference from a context sent before (src/thread/): the sender
 * names a base (a full encoding) and lists what changed; the receiver must get exactly what a
 * full encoding would have carried.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ContextKey,
  deserialize,
  initialize,
  isDContextError,
  RegistryBuilder,
  type Snapshot,
  scope,
  serialize,
  set,
  setMaxContextSize,
  snapshot,
  toDebugJSON,
} from '../../src/index.js';
import { type ContextTransfer, fromTransfer, toTransfer } from '../../src/thread/transfer.js';
import { withCapturedWarnings } from '../support/warnings.js';

if (process.env.FC_SEED !== 'random') {
  fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261125) });
}

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const user = builder.register<{ id: string; roles: string[] }>('user');
const count = builder.register<number>('count');
const when = builder.register<Date>('when', { codec: 'superjson' });
const checked = builder.register<string>('checked', {
  validate: (value) => typeof value === 'string',
});
const tenant = builder.registerLocal<{ id: number }>('tenant_handle');
const signed = builder.register<number>('signed', { codec: 'superjson' });
initialize(builder);

let unique = 0;

/**
 * Runs `fn` in a context unlike any sent before, after sending it (it becomes the base of the
 * deltas that follow), with its transfer.
 */
function withBase<R>(fn: (base: ContextTransfer) => R): R {
  unique++;
  return scope('base', () => {
    set(requestId, `base-${unique}`);
    set(user, { id: `u-${unique}`, roles: ['a', 'b'] });
    set(count, unique);
    set(when, new Date(unique));
    set(checked, `c-${unique}`);
    const transfer = toTransfer(snapshot());
    expect(transfer.delta).toBeNull();
    return fn(transfer);
  });
}

/** What the receiving side gets, through structured clone as across threads. */
function receive(transfer: ContextTransfer): Snapshot {
  return fromTransfer(structuredClone(transfer));
}

/** The same context, as a full encoding would carry it. */
function expectSameAsFull(received: Snapshot, sent: Snapshot): void {
  expect(Buffer.from(serialize(received))).toEqual(Buffer.from(serialize(sent)));
  expect(toDebugJSON(received)).toEqual(toDebugJSON(deserialize(serialize(sent))));
}

afterEach(() => setMaxContextSize(64 * 1024));

describe('a context sent as a delta from one sent before', () => {
  it('names the base and carries only the primitives that changed, by structured clone', () => {
    withBase((base) => {
      const child = scope(() => {
        set(requestId, 'r-child');
        set(count, 42);
        return snapshot();
      });
      const transfer = toTransfer(child);
      expect(transfer.wire).toBe(base.wire);
      expect(transfer.delta).toEqual([null, null, 'request_id', 1, 'r-child', 'count', 1, 42]);
      const received = receive(transfer);
      expect(received.get(requestId)).toBe('r-child');
      expect(received.get(count)).toBe(42);
      expect(received.scopeChain).toEqual(['base']);
      expectSameAsFull(received, child);
    });
  });

  it('tells -0 from 0 for a superjson key, which keeps the sign', () => {
    unique++;
    scope(() => {
      set(requestId, `base-${unique}`);
      set(user, { id: `u-${unique}`, roles: [] });
      set(count, unique);
      set(signed, 0);
      expect(toTransfer(snapshot()).delta).toBeNull(); // the base, with 0
      const negative = scope(() => {
        set(signed, -0);
        return toTransfer(snapshot());
      });
      expect(Object.is(receive(negative).get(signed), -0)).toBe(true);
    });
  });

  it('sends an unchanged context as its base, with no delta', () => {
    withBase((base) => {
      // A new slot array (the child copies it to set a value) holding the same values.
      const again = scope(() => {
        set(requestId, snapshot().get(requestId));
        return snapshot();
      });
      expect(toTransfer(again)).toEqual({ wire: base.wire, delta: null, local: null });
    });
  });

  it('sends the scope chain when it differs from the base', () => {
    withBase(() => {
      const named = scope('render', () => {
        set(requestId, 'r-named');
        return snapshot();
      });
      const transfer = toTransfer(named);
      expect(transfer.delta?.[0]).toEqual(['base', 'render']);
      const received = receive(transfer);
      expect(received.scopeChain).toEqual(['base', 'render']);
      expectSameAsFull(received, named);
    });
  });

  it('sends an object changed in place again, and not an equal one', () => {
    withBase(() => {
      const changed = scope(() => {
        snapshot().get(user)!.roles.push('c'); // mutates the base's own value
        set(requestId, 'r-mutated');
        return snapshot();
      });
      const transfer = toTransfer(changed);
      expect(transfer.delta?.slice(2)).toEqual([
        'request_id',
        1,
        'r-mutated',
        'user',
        1,
        changed.get(user),
      ]);
      const received = receive(transfer);
      expect(received.get(user)?.roles).toEqual(['a', 'b', 'c']);
      expectSameAsFull(received, changed);
    });
    withBase((base) => {
      const equal = scope(() => {
        const { id, roles } = snapshot().get(user)!;
        set(user, { id, roles: [...roles] });
        return snapshot();
      });
      expect(toTransfer(equal)).toEqual({ wire: base.wire, delta: null, local: null });
    });
  });

  it('carries other values in the wire format: what MessagePack would not give back as is', () => {
    const cases: [ContextKey<never>, unknown, (received: Snapshot) => void][] = [
      [
        when as never,
        new Date(1_767_225_600_000),
        (r) => expect(r.get(when)?.getTime()).toBe(1_767_225_600_000),
      ], // superjson codec
      [count as never, -0, (r) => expect(Object.is(r.get(count), 0)).toBe(true)], // encoded as 0
      [checked as never, 'lone \ud800', (r) => expect(r.get(checked)).toBe('lone \ufffd')], // as U+FFFD
      [count as never, -(2 ** 40), (r) => expect(r.get(count)).toBe(-(2 ** 40))], // general encoder
      // undefined is written as nil, a hole too, and another property of an array not at all
      [
        user as never,
        { id: 'u', roles: [undefined] },
        (r) => expect(r.get(user)?.roles).toEqual([null]),
      ],
      [
        user as never,
        { id: 'u', roles: new Array(1) },
        (r) => expect(r.get(user)?.roles).toEqual([null]),
      ],
      [
        user as never,
        { id: 'u', roles: Object.assign(['x'], { extra: 1 }) },
        (r) => expect(Object.keys(r.get(user)?.roles ?? {})).toEqual(['0']),
      ],
      [
        user as never,
        new Proxy({ id: 'u', roles: [] }, {}),
        (r) => expect(r.get(user)).toEqual({ id: 'u', roles: [] }),
      ],
    ];
    for (const [key, value, check] of cases) {
      withBase(() => {
        const sent = scope(() => {
          set(key, value as never);
          set(requestId, 'r-wire');
          return snapshot();
        });
        const transfer = toTransfer(sent);
        expect(typeof transfer.delta?.[1]).toBe('string');
        expect(transfer.delta?.slice(2)).toEqual(['request_id', 1, 'r-wire']);
        const received = receive(transfer);
        check(received);
        expectSameAsFull(received, sent);
      });
    }
  });

  it('sends a context in full when a key the base has is unset, or most keys changed', () => {
    withBase((base) => {
      const unset = scope(() => {
        set(count, undefined);
        return snapshot();
      });
      const transfer = toTransfer(unset);
      expect(transfer.delta).toBeNull();
      expect(transfer.wire).not.toBe(base.wire);
      expectSameAsFull(receive(transfer), unset);
    });
  });

  it('keeps local-only values out of the delta, and sends them by name', () => {
    withBase(() => {
      const sent = scope(() => {
        set(tenant, { id: 7 });
        set(requestId, 'r-local');
        return snapshot();
      });
      const transfer = toTransfer(sent);
      expect(transfer.delta?.slice(2)).toEqual(['request_id', 1, 'r-local']);
      expect(transfer.local).toEqual([['tenant_handle', { id: 7 }]]);
      expect(receive(transfer).get(tenant)).toEqual({ id: 7 });
    });
  });

  it('gives what a full decoding gives, over random changes', () => {
    const primitive = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(undefined),
    );
    const value = fc.oneof(primitive, fc.array(primitive, { maxLength: 3 }));
    const changes = fc.array(
      fc.record({
        key: fc.constantFrom(requestId, count, checked, user, when),
        value,
        chain: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(changes, (steps) => {
        withBase(() => {
          for (const step of steps) {
            const apply = (): Snapshot => {
              const fits =
                (step.key === user && (step.value === undefined || Array.isArray(step.value))) ||
                (step.key === when && step.value === undefined) ||
                (step.key === count &&
                  (step.value === undefined || typeof step.value === 'number')) ||
                ((step.key === requestId || step.key === checked) &&
                  (step.value === undefined || typeof step.value === 'string'));
              if (fits) {
                set(
                  step.key as ContextKey<unknown>,
                  step.key === user && step.value !== undefined
                    ? { id: 'u', roles: step.value }
                    : step.value,
                );
              }
              return snapshot();
            };
            const sent = step.chain === undefined ? apply() : scope(step.chain, apply);
            expectSameAsFull(receive(toTransfer(sent)), sent);
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('the receiving side of a delta', () => {
  function deltaOf(...items: unknown[]): ContextTransfer {
    return { wire: withBase((base) => base.wire), delta: items, local: null };
  }

  it('keeps a key it has not registered as an opaque entry, forwarded on', () => {
    const received = receive(deltaOf(null, null, 'not_here', 1, 'x'));
    const onward = toDebugJSON(deserialize(serialize(received)));
    expect(onward.entries).toContainEqual(
      expect.objectContaining({ key: 'not_here', opaque: 'unknown-key', value: 'x' }),
    );
  });

  it('keeps an entry of a newer version opaque, and leaves the key unset', () => {
    const received = receive(deltaOf(null, null, 'request_id', 7, 'from the future'));
    expect(received.get(requestId)).toBeUndefined();
    expect(toDebugJSON(received).entries).toContainEqual(
      expect.objectContaining({ key: 'request_id', opaque: 'newer-version', version: 7 }),
    );
  });

  it('runs the key validate on a plain value, and drops a rejected one, with a warning', async () => {
    const { warnings } = await withCapturedWarnings(() => {
      const received = receive(deltaOf(null, null, 'checked', 1, 42));
      expect(received.get(checked)).toBeUndefined();
    });
    expect(warnings).toContainEqual({
      code: 'DCONTEXT_DECODE',
      message: expect.stringMatching(/'checked' .* rejected by its validate/),
    });
  });

  it('does not accept a local-only key from the delta, with a warning', async () => {
    const { warnings } = await withCapturedWarnings(() => {
      const received = receive(deltaOf(null, null, 'tenant_handle', 1, 'sent anyway'));
      expect(received.get(tenant)).toBeUndefined();
    });
    expect(warnings).toContainEqual({
      code: 'DCONTEXT_DECODE',
      message: expect.stringMatching(/'tenant_handle' .* local-only/),
    });
  });

  it('refuses malformed deltas with DECODE_FAILED', () => {
    const bad: unknown[][] = [
      [null, null, 'request_id', 1],
      [null, null, 'request_id', 1, new Date(0)],
      [null, null, 'request_id', 1, { not: undefined }],
      [null, null, 'request_id', 1, 'a', 'request_id', 1, 'b'],
      [null, null, '', 1, 'a'],
      ['not a chain', null],
      [[1], null],
      [null, 42],
      [null, 'not base64url!'],
    ];
    for (const items of bad) {
      let error: unknown;
      try {
        receive(deltaOf(...items));
      } catch (caught) {
        error = caught;
      }
      expect(isDContextError(error, 'DECODE_FAILED'), JSON.stringify(items)).toBe(true);
    }
  });

  it('applies the size limit to the whole context', () => {
    const transfer = deltaOf(null, null, 'request_id', 1, 'x'.repeat(600));
    const full = serialize(receive(transfer));
    setMaxContextSize(full.length - 1);
    let error: unknown;
    try {
      receive(transfer);
    } catch (caught) {
      error = caught;
    }
    expect(isDContextError(error, 'CONTEXT_TOO_LARGE')).toBe(true);
    setMaxContextSize(full.length);
    expect(receive(transfer).get(requestId)).toBe('x'.repeat(600));
  });
});
