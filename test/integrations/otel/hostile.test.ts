/**
 * dcontext/otel against hostile and careless callers: carriers whose getters throw, baggage that
 * tries to smuggle members, the propagator under another context manager
 * (AsyncLocalStorageContextManager), emitters bound by more than one manager, and worker-thread
 * carriers forged by the worker.
 */
import { EventEmitter } from 'node:events';
import {
  type Context,
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bindEmitter,
  type DContextError,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  scope,
  serializeToString,
  set,
} from '../../../src/index.js';
import { DContextManager, DContextPropagator } from '../../../src/integrations/otel/index.js';
import { spanContextBridge } from '../../../src/integrations/otel/thread-bridge.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', { metadata: { baggage: 'tenant' } });
initialize(builder);

const manager = new DContextManager();
context.setGlobalContextManager(manager);

/** Puts `next` in as the global context manager (OpenTelemetry refuses a second without disable). */
function useGlobalManager(next: DContextManager | AsyncLocalStorageContextManager): void {
  context.disable();
  context.setGlobalContextManager(next.enable());
}
afterEach(() => useGlobalManager(manager));

function make() {
  const errors: DContextError[] = [];
  const propagator = new DContextPropagator({ accept: 'all', onError: (e) => errors.push(e) });
  return { propagator, errors };
}

const upstream = () =>
  scope('upstream', () => {
    set(requestId, 'r-up');
    set(tenant, 'acme');
    return serializeToString();
  });

describe('a carrier whose getter throws', () => {
  it.each([
    ['on every header', () => true],
    ['on the baggage header only', (name: string) => name === 'baggage'],
  ])('%s: extract returns the context unchanged and reports, never throws', (_name, throwsOn) => {
    const { propagator, errors } = make();
    const carrier = { 'x-dcontext': upstream(), baggage: 'tenant=acme' };
    const getter: TextMapGetter<typeof carrier> = {
      keys: (c) => Object.keys(c),
      get: (c, name) => {
        if (throwsOn(name)) throw new Error(`getter refused ${name}`);
        return defaultTextMapGetter.get(c, name);
      },
    };
    const given = ROOT_CONTEXT.setValue(createContextKey('given'), 1);
    let result: Context | undefined;
    expect(() => {
      result = propagator.extract(given, carrier, getter);
    }).not.toThrow();
    expect(result).toBe(given);
    expect(errors.map((e) => e.code)).toEqual(['DECODE_FAILED']);
  });
});

describe('baggage properties', () => {
  it("an OpenTelemetry entry's metadata cannot smuggle an extra member into the baggage header", () => {
    const { propagator } = make();
    const baggage = propagation.createBaggage({
      plain: { value: 'v' },
      sneaky: { value: 'v', metadata: { toString: () => 'p=1,tenant=evil' } as never },
    });
    const carrier: Record<string, string> = {};
    scope('request', () => {
      set(tenant, 'acme');
      manager.with(propagation.setBaggage(context.active(), baggage), () =>
        propagator.inject(context.active(), carrier, defaultTextMapSetter),
      );
    });
    const members = carrier.baggage!.split(',').map((m) => m.split(/[=;]/)[0]);
    expect(members).toEqual(['tenant', 'plain']);
  });
});

describe('the propagator under AsyncLocalStorageContextManager (not DContextManager)', () => {
  it("inject inside the other manager's with() of an extracted context sends the live dcontext context", () => {
    useGlobalManager(new AsyncLocalStorageContextManager());
    const { propagator } = make();
    const extracted = propagator.extract(
      ROOT_CONTEXT,
      { 'x-dcontext': upstream() },
      defaultTextMapGetter,
    );
    const carrier: Record<string, string> = {};
    // What an instrumented server then an instrumented client do around a handler that opens
    // its own dcontext scope (a dcontext/http ingress, say).
    context.with(extracted, () =>
      scope('handler', () => {
        set(requestId, 'r-here');
        propagator.inject(context.active(), carrier, defaultTextMapSetter);
      }),
    );
    const sent = deserialize(carrier['x-dcontext']!, { accept: 'all' });
    expect(sent.get(requestId)).toBe('r-here');
    expect(sent.scopeChain).toEqual(['handler']);
  });

  it('an extracted context not entered is still forwarded as it came', () => {
    useGlobalManager(new AsyncLocalStorageContextManager());
    const { propagator } = make();
    const extracted = propagator.extract(
      ROOT_CONTEXT,
      { 'x-dcontext': upstream() },
      defaultTextMapGetter,
    );
    const carrier: Record<string, string> = {};
    scope('proxy', () => propagator.inject(extracted, carrier, defaultTextMapSetter));
    expect(deserialize(carrier['x-dcontext']!, { accept: 'all' }).get(requestId)).toBe('r-up');
  });
});

describe('an emitter bound by more than one manager', () => {
  const bindings: [string, (ee: EventEmitter) => EventEmitter][] = [
    [
      'DContextManager over AsyncLocalStorageContextManager',
      (ee) =>
        manager.bind(ROOT_CONTEXT, new AsyncLocalStorageContextManager().bind(ROOT_CONTEXT, ee)),
    ],
    [
      'two DContextManagers',
      (ee) => new DContextManager().bind(ROOT_CONTEXT, manager.bind(ROOT_CONTEXT, ee)),
    ],
  ];

  it.each(bindings)('%s: removeListener and off take the original listener', (_name, bind) => {
    const ee = bind(new EventEmitter());
    let calls = 0;
    const listener = () => calls++;
    ee.on('a', listener);
    ee.removeListener('a', listener);
    ee.once('b', listener);
    ee.off('b', listener);
    ee.prependListener('c', listener);
    ee.off('c', listener);
    ee.emit('a');
    ee.emit('b');
    ee.emit('c');
    expect([calls, ee.listenerCount('a'), ee.listenerCount('b'), ee.listenerCount('c')]).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it.each(bindings)('%s: a listener added twice is removed one at a time', (_name, bind) => {
    const ee = bind(new EventEmitter());
    let calls = 0;
    const listener = () => calls++;
    ee.on('a', listener);
    ee.on('a', listener);
    ee.removeListener('a', listener);
    ee.emit('a');
    expect([calls, ee.listenerCount('a')]).toEqual([1, 1]);
    ee.removeListener('a', listener);
    ee.emit('a');
    expect([calls, ee.listenerCount('a')]).toEqual([1, 0]);
  });
});

describe('an emitter bound by one DContextManager', () => {
  it('a listener added with on() and once(): the once fires once, then removeListener removes the other', () => {
    const ctx = ROOT_CONTEXT.setValue(createContextKey('bound'), 1);
    const ee = manager.bind(ctx, new EventEmitter());
    const seen: Context[] = [];
    const listener = () => {
      seen.push(manager.active());
    };
    ee.on('a', listener);
    ee.once('a', listener);
    ee.emit('a'); // both
    ee.removeListener('a', listener); // the on() one: the once() one is gone
    ee.emit('a');
    expect(seen).toEqual([ctx, ctx]);
    expect(ee.listenerCount('a')).toBe(0);
  });

  it('after removeAllListeners, a listener added again is removed by removeListener', () => {
    const ee = manager.bind(ROOT_CONTEXT, new EventEmitter());
    const listener = () => {};
    ee.on('a', listener);
    ee.on('b', listener);
    ee.removeAllListeners('a');
    ee.removeAllListeners();
    ee.on('a', listener);
    ee.removeListener('a', listener);
    expect(ee.listenerCount('a') + ee.listenerCount('b')).toBe(0);
  });

  it('listeners() lists the originals', () => {
    const ee = manager.bind(ROOT_CONTEXT, new EventEmitter());
    const listener = () => {};
    ee.on('a', listener);
    ee.once('a', listener);
    expect(ee.listeners('a')).toEqual([listener, listener]);
  });
});

describe('a worker-thread carrier forged by the worker', () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const spanId = 'b7ad6b7169203331';

  it.each([
    ['not an array', { traceId, spanId }],
    ['too short', [traceId, spanId, 1]],
    ['too long', [traceId, spanId, 1, '', 'extra']],
    ['upper-case trace id (W3C ids are lower-case hex)', [traceId.toUpperCase(), spanId, 1, '']],
    ['upper-case span id', [traceId, spanId.toUpperCase(), 1, '']],
    ['all-zero trace id', ['0'.repeat(32), spanId, 1, '']],
    ['short span id', [traceId, 'b7ad', 1, '']],
    ['flags out of range', [traceId, spanId, 256, '']],
    ['flags not an integer', [traceId, spanId, 1.5, '']],
    ['trace state not a string', [traceId, spanId, 1, { k: 'v' }]],
    ['trace state over 8 KiB', [traceId, spanId, 1, `k=${'v'.repeat(9000)}`]],
  ])('%s: no context', (_name, carrier) => {
    expect(spanContextBridge.fromCarrier(carrier)).toBe(null);
  });

  it('a well-formed carrier becomes a remote parent with only the span context shape', () => {
    const received = spanContextBridge.fromCarrier([traceId, spanId, 1, 'vendor=x']) as Context;
    const span = trace.getSpanContext(received);
    expect(span).toMatchObject({ traceId, spanId, traceFlags: 1, isRemote: true });
    expect(span?.traceState?.get('vendor')).toBe('x');
    expect(get(requestId)).toBe(undefined);
  });
});

describe('many interleaved extracted requests', () => {
  it('400 requests with random delays, spans and a disable/enable in the middle: each reads and sends only its own context', async () => {
    const { propagator } = make();
    const tracer = trace.getTracer('hostile');
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    const mismatches: string[] = [];
    const flip = (async () => {
      await pause();
      manager.disable();
      await pause();
      manager.enable();
    })();
    await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        await pause();
        const inbound = scope('upstream', () => {
          set(requestId, `r-${i}`);
          return serializeToString();
        });
        const extracted = propagator.extract(
          ROOT_CONTEXT,
          { 'x-dcontext': inbound, baggage: `tenant=t-${i}` },
          defaultTextMapGetter,
        );
        await context.with(extracted, () =>
          tracer.startActiveSpan(`request ${i}`, async (span) => {
            await pause();
            await scope('handler', async () => {
              set(tenant, `own-${i}`);
              await pause();
              const carrier: Record<string, string> = {};
              propagator.inject(context.active(), carrier, defaultTextMapSetter);
              const sent = deserialize(carrier['x-dcontext']!, { accept: 'all' });
              const seen = [get(requestId), sent.get(requestId), sent.get(tenant), carrier.baggage];
              const want = [`r-${i}`, `r-${i}`, `own-${i}`, `tenant=own-${i}`];
              if (JSON.stringify(seen) !== JSON.stringify(want)) {
                mismatches.push(`${i}: ${JSON.stringify(seen)}`);
              }
            });
            span.end();
          }),
        );
      }),
    );
    await flip;
    expect(mismatches).toEqual([]);
  });
});

describe('a value encodeURIComponent refuses (a lone surrogate)', () => {
  it('is left out of baggage; the other bridged and OpenTelemetry entries are still written', () => {
    const { propagator, errors } = make();
    const carrier: Record<string, string> = {};
    const own = propagation.createBaggage({ plain: { value: 'v' }, broken: { value: '\uD800' } });
    scope('request', () => {
      set(tenant, 'acme');
      manager.with(propagation.setBaggage(context.active(), own), () =>
        propagator.inject(context.active(), carrier, defaultTextMapSetter),
      );
    });
    expect(carrier.baggage).toBe('tenant=acme,plain=v');
    expect(errors).toEqual([]);
  });
});

describe("dcontext's own bindEmitter over an emitter a context manager bound first", () => {
  // A manager that bound the emitter first wraps the core's wrapper again and keeps its own
  // record of what it was given; bindEmitter then hands it its wrapper, not the original.
  const firsts: [string, () => EventEmitter][] = [
    ['DContextManager', () => manager.bind(ROOT_CONTEXT, new EventEmitter())],
    [
      'AsyncLocalStorageContextManager',
      () => new AsyncLocalStorageContextManager().bind(ROOT_CONTEXT, new EventEmitter()),
    ],
  ];
  it.each(firsts)(
    'bound first by %s: removeListener and off take the original listener',
    (_name, first) => {
      const ee = bindEmitter(first());
      const listener = () => {};
      ee.on('a', listener);
      ee.removeListener('a', listener);
      ee.once('b', listener);
      ee.off('b', listener);
      expect([ee.listenerCount('a'), ee.listenerCount('b')]).toEqual([0, 0]);
    },
  );

  it.each(firsts)(
    'bound first by %s: a listener added twice is removed one at a time, a once fires once',
    (_name, first) => {
      const ee = bindEmitter(first());
      let calls = 0;
      const listener = () => calls++;
      ee.on('a', listener);
      ee.on('a', listener);
      ee.removeListener('a', listener);
      ee.emit('a');
      expect([calls, ee.listenerCount('a')]).toEqual([1, 1]);
      ee.once('b', listener);
      ee.emit('b');
      ee.emit('b');
      expect([calls, ee.listenerCount('b')]).toEqual([2, 0]);
      ee.on('c', listener);
      ee.removeAllListeners('c');
      ee.on('c', listener);
      ee.off('c', listener);
      ee.removeAllListeners();
      ee.on('a', listener);
      ee.off('a', listener);
      expect([ee.listenerCount('a'), ee.listenerCount('c')]).toEqual([0, 0]);
    },
  );
});

describe('verifyKeys: only signed context is taken', () => {
  const signing = 'k'.repeat(32);

  it('a bridged key is not taken from baggage, which no one signs; each such entry is reported', () => {
    const errors: DContextError[] = [];
    const propagator = new DContextPropagator({
      accept: 'all',
      verifyKeys: [signing],
      onError: (e) => errors.push(e),
    });
    const forged = propagator.extract(
      ROOT_CONTEXT,
      { baggage: 'tenant=victim-corp' },
      defaultTextMapGetter,
    );
    expect(manager.with(forged, () => get(tenant))).toBe(undefined);
    expect(errors.map((e) => [e.code, e.key])).toEqual([['NOT_ACCEPTED', 'tenant']]);

    // A signed header is still taken whole, and baggage does not add to it.
    const signed = scope('upstream', () => {
      set(requestId, 'r-signed');
      return serializeToString(undefined, { signingKey: signing });
    });
    const ctx = propagator.extract(
      ROOT_CONTEXT,
      { 'x-dcontext': signed, baggage: 'tenant=victim-corp' },
      defaultTextMapGetter,
    );
    expect(manager.with(ctx, () => [get(requestId), get(tenant)])).toEqual(['r-signed', undefined]);
  });
});
