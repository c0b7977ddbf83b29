/**
 * DContextPropagator on its own and in a CompositePropagator with OpenTelemetry's W3C
 * propagators (from @opentelemetry/core): the dcontext header and the baggage bridge, their
 * accept/send bounds and W3C limits, and bad input that never throws.
 */
import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DContextError,
  deserialize,
  get,
  initialize,
  isDContextError,
  RegistryBuilder,
  scope,
  scopeChain,
  serializeToString,
  set,
  withContext,
} from '../../../src/index.js';
import {
  BAGGAGE_LIMITS,
  DContextPropagator,
  type DContextPropagatorOptions,
} from '../../../src/integrations/otel/index.js';
import { setUpOtel } from './support.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', {
  metadata: { baggage: 'tenant' },
  validate: (v) => typeof v === 'string' && /^[a-z0-9-]+$/.test(v),
});
const user = builder.register<string>('user', { metadata: { baggage: 'user.id' } });
const secret = builder.registerLocal<string>('secret', { metadata: { baggage: 'secret' } });
const count = builder.register<number>('count', { metadata: { baggage: 'count' } });
initialize(builder);

const { manager, tracer } = setUpOtel();

type Carrier = Record<string, string>;

/** A propagator whose errors are collected. */
function make(options: DContextPropagatorOptions = {}) {
  const errors: DContextError[] = [];
  const propagator = new DContextPropagator({ onError: (e) => errors.push(e), ...options });
  const inject = (ctx: Context = context.active()): Carrier => {
    const carrier: Carrier = {};
    propagator.inject(ctx, carrier, defaultTextMapSetter);
    return carrier;
  };
  const extract = (carrier: Record<string, string | string[]>, ctx: Context = ROOT_CONTEXT) =>
    propagator.extract(ctx, carrier, defaultTextMapGetter);
  return { propagator, errors, inject, extract };
}

/** What the handler of an extracted context reads, entered the way an instrumented server does. */
function readIn(ctx: Context) {
  return context.with(ctx, () => ({
    rid: get(requestId),
    tenant: get(tenant),
    user: get(user),
    chain: scopeChain(),
  }));
}

function fill(): void {
  set(requestId, 'r-1');
  set(tenant, 'acme');
  set(user, 'ana maría');
  set(secret, 'hunter2');
  set(count, 3);
}

describe('options', () => {
  it.each([
    [{ header: 'bad header' }],
    [{ accept: 'some' }],
    [{ send: 42 }],
    [{ baggage: 'yes' }],
    [{ onError: 'log' }],
    [{ verifyKeys: [] }],
    ['options'],
  ])('refuses %j with INVALID_ARGUMENT', (options) => {
    let thrown: unknown;
    try {
      new DContextPropagator(options as DContextPropagatorOptions);
    } catch (error) {
      thrown = error;
    }
    expect(isDContextError(thrown, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('fields() names the headers it may write', () => {
    expect(new DContextPropagator().fields()).toEqual(['x-dcontext', 'baggage']);
    expect(new DContextPropagator({ header: 'X-Ctx', baggage: false }).fields()).toEqual(['x-ctx']);
  });
});

describe('inject', () => {
  it('writes the live context (values, scope chain) and the bridged string keys to baggage; never a local-only key', async () => {
    const { inject } = make();
    const carrier = await scope('request', async () => {
      fill();
      return inject();
    });
    const sent = deserialize(carrier['x-dcontext']!);
    expect(sent.get(requestId)).toBe('r-1');
    expect(sent.scopeChain).toEqual(['request']);
    expect(sent.has(secret)).toBe(false);
    expect(carrier.baggage).toBe('tenant=acme,user.id=ana%20mar%C3%ADa');
  });

  it('writes nothing outside any scope, and nothing for an empty context', () => {
    expect(make().inject()).toEqual({});
    expect(manager.with(ROOT_CONTEXT, () => make().inject())).toEqual({});
  });

  it('send bounds both the header and baggage; send: none writes neither', () => {
    scope('request', () => {
      fill();
      const only = make({ send: [tenant] }).inject();
      expect([...deserialize(only['x-dcontext']!).entries()]).toEqual([['tenant', 'acme']]);
      expect(only.baggage).toBe('tenant=acme');
      expect(make({ send: 'none' }).inject()).toEqual({});
    });
  });

  it('sends what inner scopes wrote, also for a context derived from the active one (as instrumentations pass)', () => {
    const { inject } = make();
    scope('outer', () => {
      set(requestId, 'outer');
      scope('inner', () => {
        set(requestId, 'inner');
        const span = tracer.startSpan('client');
        const carrier = inject(trace.setSpan(context.active(), span));
        span.end();
        expect(deserialize(carrier['x-dcontext']!).get(requestId)).toBe('inner');
      });
    });
  });

  it('a value too large for one baggage member stays out of baggage and still goes in the header', () => {
    scope('request', () => {
      set(user, 'x'.repeat(BAGGAGE_LIMITS.maxEntryBytes));
      set(tenant, 'acme');
      const carrier = make().inject();
      expect(carrier.baggage).toBe('tenant=acme');
      expect(deserialize(carrier['x-dcontext']!).get(user)).toHaveLength(4096);
    });
  });

  it('an error on the way out (a context over the size limit) is reported, never thrown', () => {
    const { inject, errors } = make();
    scope('request', () => {
      set(requestId, 'y'.repeat(70 * 1024));
      expect(() => inject()).not.toThrow();
    });
    expect(errors.map((e) => e.code)).toEqual(['CONTEXT_TOO_LARGE']);
  });
});

describe('extract', () => {
  const header = () =>
    scope('upstream', () => {
      fill();
      return serializeToString();
    });

  it("takes nothing by default (accept: 'none'), reporting each refused entry", () => {
    const { extract, errors } = make();
    const given = ROOT_CONTEXT.setValue(Symbol('mine'), 1);
    expect(extract({ 'x-dcontext': header(), baggage: 'tenant=evil' }, given)).toBe(given);
    expect(errors.map((e) => [e.code, e.key])).toEqual([
      ['NOT_ACCEPTED', 'request_id'],
      ['NOT_ACCEPTED', 'tenant'],
      ['NOT_ACCEPTED', 'user'],
      ['NOT_ACCEPTED', 'count'],
    ]);
  });

  it("with accept: 'all' the handler inside context.with reads the caller's values and scope chain", () => {
    const { extract } = make({ accept: 'all' });
    const ctx = extract({ 'x-dcontext': header() });
    expect(readIn(ctx)).toEqual({
      rid: 'r-1',
      tenant: 'acme',
      user: 'ana maría',
      chain: ['upstream'],
    });
    expect(get(requestId)).toBeUndefined(); // nothing leaks out of the handler
  });

  it('a list accepts only the keys it names', () => {
    const { extract, errors } = make({ accept: [tenant, 'user'] });
    expect(readIn(extract({ 'x-dcontext': header() }))).toMatchObject({
      rid: undefined,
      tenant: 'acme',
      user: 'ana maría',
    });
    expect(errors.map((e) => e.key)).toEqual(['request_id', 'count']);
  });

  it('context.with of a context derived from the extracted one keeps what the handler wrote in its scopes', async () => {
    const { extract } = make({ accept: 'all' });
    const ctx = extract({ 'x-dcontext': header() });
    await context.with(ctx, () =>
      scope('handler', async () => {
        set(requestId, 'written-inside');
        await tracer.startActiveSpan('work', async (span) => {
          // startActiveSpan enters trace.setSpan(context.active(), span): same snapshot, kept values.
          expect(get(requestId)).toBe('written-inside');
          expect(scopeChain()).toEqual(['upstream', 'handler']);
          span.end();
        });
        // Entering the extracted context again (a bound callback, say) keeps them too.
        context.with(ctx, () => expect(get(requestId)).toBe('written-inside'));
      }),
    );
  });

  it('inject of an extracted context not entered yet forwards its snapshot', () => {
    const { extract, inject } = make({ accept: 'all' });
    const ctx = extract({ 'x-dcontext': header() });
    const forwarded = deserialize(inject(ctx)['x-dcontext']!);
    expect(forwarded.get(requestId)).toBe('r-1');
  });

  describe('baggage', () => {
    it('takes bridged keys from baggage when accepted; the context header wins over baggage', () => {
      const { extract } = make({ accept: 'all' });
      const fromBaggage = extract({
        baggage: 'tenant=acme, user.id=ana%20mar%C3%ADa;prop=1, other=x',
      });
      expect(readIn(fromBaggage)).toMatchObject({ tenant: 'acme', user: 'ana maría', chain: [] });
      const both = extract({ 'x-dcontext': header(), baggage: 'tenant=other' });
      expect(readIn(both).tenant).toBe('acme');
    });

    it('baggage is bounded by accept too, and a value the key refuses is reported and skipped', () => {
      const listed = make({ accept: ['user'] });
      const ctx = listed.extract({ baggage: 'tenant=acme,user.id=bob' });
      expect(readIn(ctx)).toMatchObject({ tenant: undefined, user: 'bob' });
      expect(listed.errors.map((e) => [e.code, e.key])).toEqual([['NOT_ACCEPTED', 'tenant']]);

      const all = make({ accept: 'all' });
      const refused = all.extract({ baggage: 'tenant=NOT%20VALID,user.id=bob' });
      expect(readIn(refused)).toMatchObject({ tenant: undefined, user: 'bob' });
      expect(all.errors.map((e) => [e.code, e.key])).toEqual([['TYPE_MISMATCH', 'tenant']]);
    });

    it('reads at most 64 members and 8,192 bytes; over-long and malformed members are skipped', () => {
      const { extract } = make({ accept: 'all' });
      const filler = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`);
      // The 65th member is past the limit.
      expect(readIn(extract({ baggage: [...filler(64), 'tenant=late'].join(',') })).tenant).toBe(
        undefined,
      );
      expect(readIn(extract({ baggage: [...filler(63), 'tenant=last'].join(',') })).tenant).toBe(
        'last',
      );
      // A member over 4,096 bytes is skipped; the next one still counts.
      const long = `user.id=${'a'.repeat(5000)}`;
      expect(readIn(extract({ baggage: `${long},tenant=after` }))).toMatchObject({
        user: undefined,
        tenant: 'after',
      });
      // Members that would take the header past 8,192 bytes are skipped.
      const big = Array.from({ length: 3 }, (_, i) => `b${i}=${'z'.repeat(4000)}`);
      expect(readIn(extract({ baggage: [...big, 'tenant=fits'].join(',') }))).toMatchObject({
        tenant: 'fits',
      });
      expect(
        readIn(extract({ baggage: [...big, `user.id=${'u'.repeat(300)}`].join(',') })).user,
      ).toBe(undefined);
      // Malformed members: no '=', a bad name, a bad escape, a space inside the value.
      expect(
        readIn(extract({ baggage: 'tenant,=x,t enant=x,user.id=%E0%A4%A,user.id=a b,tenant=ok' })),
      ).toMatchObject({ tenant: 'ok', user: undefined });
    });

    it('writes at most 64 members and 8,192 bytes, OpenTelemetry entries after the bridged keys', () => {
      const { inject } = make();
      const entries = Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`otel${i}`, { value: 'v'.repeat(150) }]),
      );
      const ctx = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage(entries));
      scope('request', () => {
        set(tenant, 'acme');
        const written = manager.with(ctx, () => inject()).baggage!;
        const members = written.split(',');
        expect(members[0]).toBe('tenant=acme');
        expect(members.length).toBeLessThanOrEqual(64);
        expect(Buffer.byteLength(written)).toBeLessThanOrEqual(8192);
        expect(members.length).toBeGreaterThan(40);
      });
    });
  });

  describe('bad input never throws and takes nothing', () => {
    const good = () =>
      scope('upstream', () => {
        set(requestId, 'r-1');
        set(tenant, 'acme');
        return serializeToString();
      });

    it.each([
      ['garbage', { 'x-dcontext': 'not base64 !!!' }],
      ['two headers', { 'x-dcontext': [good(), good()] }],
      ['two headers joined', { 'x-dcontext': `${good()}, ${good()}` }],
      ['truncated', { 'x-dcontext': good().slice(0, -6) }],
    ])('%s: the context is returned unchanged, the error reported', (_name, carrier) => {
      const { extract, errors } = make({ accept: 'all' });
      const given = ROOT_CONTEXT.setValue(Symbol('given'), 1);
      const result = extract({ ...carrier, baggage: 'tenant=from-baggage' }, given);
      expect(result).toBe(given);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.code).toMatch(/DECODE_FAILED|CONTEXT_TOO_LARGE/);
    });

    it('a forged (unsigned) header is refused when verifyKeys is set', () => {
      const { extract, errors } = make({ accept: 'all', verifyKeys: ['k'.repeat(32)] });
      expect(extract({ 'x-dcontext': good() })).toBe(ROOT_CONTEXT);
      expect(errors.map((e) => e.code)).toEqual(['BAD_SIGNATURE']);
    });

    it('an onError that throws does not make extract throw', () => {
      const propagator = new DContextPropagator({
        accept: 'all',
        onError: () => {
          throw new Error('logger down');
        },
      });
      expect(() =>
        propagator.extract(ROOT_CONTEXT, { 'x-dcontext': '%%%' }, defaultTextMapGetter),
      ).not.toThrow();
    });

    it("10,000 generated context and baggage headers: never a throw, only DContextErrors, and what is taken passes the keys' checks", () => {
      const { propagator, errors } = make({ accept: 'all' });
      const valid = good();
      const header = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.base64String({ maxLength: 300 }),
        // A valid header with one character changed, cut or extended.
        fc
          .tuple(fc.nat(valid.length - 1), fc.constantFrom(...'AZaz09-_=+/!'))
          .map(([at, ch]) => valid.slice(0, at) + ch + valid.slice(at + 1)),
        fc.nat(valid.length).map((n) => valid.slice(0, n)),
      );
      const baggage = fc.oneof(
        fc.string({ maxLength: 300 }),
        fc
          .array(
            fc.tuple(fc.constantFrom('tenant', 'user.id', 'x', ''), fc.string({ maxLength: 40 })),
            {
              maxLength: 80,
            },
          )
          .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(',')),
      );
      fc.assert(
        fc.property(header, baggage, (h, b) => {
          const ctx = propagator.extract(
            ROOT_CONTEXT,
            { 'x-dcontext': h, baggage: b },
            defaultTextMapGetter,
          );
          const seen = readIn(ctx);
          // Whatever was taken passes the keys' checks.
          if (seen.tenant !== undefined) expect(/^[a-z0-9-]+$/.test(seen.tenant)).toBe(true);
          // An unsigned header has no integrity: a changed byte may still decode, to a string.
          if (seen.rid !== undefined) expect(typeof seen.rid).toBe('string');
        }),
        { numRuns: 10_000 },
      );
      expect(errors.every((e) => isDContextError(e))).toBe(true);
    });
  });
});

describe('in a CompositePropagator with the W3C propagators', () => {
  const composite = new CompositePropagator({
    propagators: [
      new W3CTraceContextPropagator(),
      new W3CBaggagePropagator(),
      new DContextPropagator({ accept: 'all' }),
    ],
  });

  it('traceparent, OpenTelemetry baggage, bridged keys and the dcontext header round-trip together', () => {
    const carrier: Carrier = {};
    const sent = tracer.startActiveSpan('client', (span) => {
      const withBaggage = propagation.setBaggage(
        context.active(),
        propagation.createBaggage({ 'otel.key': { value: 'otel value' } }),
      );
      scope('request', () => {
        set(requestId, 'r-9');
        set(tenant, 'acme');
        composite.inject(withBaggage, carrier, defaultTextMapSetter);
      });
      span.end();
      return span.spanContext();
    });
    expect(composite.fields()).toEqual(
      expect.arrayContaining(['traceparent', 'tracestate', 'baggage', 'x-dcontext']),
    );
    expect(carrier.traceparent).toBe(`00-${sent.traceId}-${sent.spanId}-01`);
    expect(carrier.baggage?.split(',').sort()).toEqual(['otel.key=otel%20value', 'tenant=acme']);

    const received = composite.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    expect(trace.getSpanContext(received)).toMatchObject({
      traceId: sent.traceId,
      spanId: sent.spanId,
      isRemote: true,
    });
    expect(propagation.getBaggage(received)?.getEntry('otel.key')?.value).toBe('otel value');
    expect(readIn(received)).toMatchObject({ rid: 'r-9', tenant: 'acme', chain: ['request'] });
    // A server span started in it parents to the client span and sees the dcontext values.
    context.with(received, () =>
      tracer.startActiveSpan('server', (span) => {
        expect(get(requestId)).toBe('r-9');
        expect(
          (span as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId,
        ).toBe(sent.spanId);
        span.end();
      }),
    );
  });

  it('with no bridged value set, the W3C baggage propagator header is left as it wrote it', () => {
    const carrier: Carrier = {};
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ only: { value: 'otel' } }),
    );
    scope('request', () => {
      set(requestId, 'r');
      composite.inject(ctx, carrier, defaultTextMapSetter);
    });
    expect(carrier.baggage).toBe('only=otel');
  });

  it('withContext of a snapshot and the propagator agree: what is entered is what is sent', () => {
    const carrier: Carrier = {};
    const snap = scope('job', () => {
      set(requestId, 'r-job');
      return serializeToString();
    });
    withContext(deserialize(snap), () =>
      composite.inject(context.active(), carrier, defaultTextMapSetter),
    );
    expect(deserialize(carrier['x-dcontext']!).get(requestId)).toBe('r-job');
  });
});
