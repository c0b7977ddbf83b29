import { setEnvironmentData, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  get,
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  set,
  snapshot,
} from '../../src/index.js';
import { fromTransfer, isTransfer, toTransfer } from '../../src/thread/transfer.js';
import { attachContext } from '../../src/worker/error-context.js';
import { errorContext } from '../../src/worker/index.js';
import { assertBuilt, fixture } from './support/built.js';

assertBuilt();

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.registerLocal<{ id: number }>('tenant_handle');
const profile = builder.register<{ plan: string }>('profile');
const protoNamed = builder.register<{ polluted: boolean }>('__proto__');
builder.registerLocal<number>('strict_local', {
  validate: (value) => typeof value === 'number',
});
initialize(builder);

describe('the transferable form of a context', () => {
  it('carries non-local keys in the wire string form and local keys by name', () => {
    const transfer = scope('http', () => {
      set(requestId, 'r-1');
      set(tenant, { id: 3 });
      return toTransfer(snapshot());
    });
    expect(typeof transfer.wire).toBe('string');
    expect(transfer.local).toEqual([['tenant_handle', { id: 3 }]]);
    const back = fromTransfer(structuredClone(transfer));
    expect(back.get(requestId)).toBe('r-1');
    expect(back.get(tenant)).toEqual({ id: 3 });
    expect(back.scopeChain).toEqual(['http']);
  });

  it('reads the values again at every send: an object changed in place travels as it is now', () => {
    scope(() => {
      set(tenant, { id: 1 });
      set(requestId, 'r-1');
      set(profile, { plan: 'free' });
      // Cloned at once, as postMessage does.
      const first = structuredClone(toTransfer(snapshot()));
      // The same scope, no set(): only the objects themselves changed.
      get(tenant)!.id = 2;
      get(profile)!.plan = 'pro';
      const second = structuredClone(toTransfer(snapshot()));
      expect(fromTransfer(first).get(tenant)).toEqual({ id: 1 });
      expect(fromTransfer(first).get(profile)).toEqual({ plan: 'free' });
      expect(fromTransfer(second).get(tenant)).toEqual({ id: 2 });
      expect(fromTransfer(second).get(profile)).toEqual({ plan: 'pro' });
      // And a value that stopped being cloneable is refused with the typed error.
      (get(tenant) as unknown as { cb: () => void }).cb = () => {};
      expect(() => toTransfer(snapshot())).toThrow(
        expect.objectContaining({ code: 'NOT_CLONEABLE' }),
      );
      // A child scope that writes nothing shares its parent's slots, but not its chain.
      get(tenant)!.id = 3;
      delete (get(tenant) as unknown as { cb?: unknown }).cb;
      const named = scope('child', () => toTransfer(snapshot()));
      expect(fromTransfer(named).scopeChain).toEqual(['child']);
    });
  });

  it('leaves out local values whose name is not registered or that fail validate', () => {
    const wire = toTransfer(Snapshot.empty()).wire;
    const back = fromTransfer({
      wire,
      local: [
        ['not_registered', 1],
        ['strict_local', 'not a number'],
        ['tenant_handle', { id: 9 }],
        ['malformed'] as unknown as [string, unknown],
      ],
    });
    expect([...back.entries()]).toEqual([['tenant_handle', { id: 9 }]]);
  });

  it('recognises only its own shape', () => {
    expect(isTransfer({ wire: 'AQCQ', local: null })).toBe(true);
    expect(isTransfer({ wire: new Uint8Array(2), local: null })).toBe(false);
    expect(isTransfer({ wire: 'AQCQ', local: 'x' })).toBe(false);
    expect(isTransfer(null)).toBe(false);
  });

  it('never shares a decoded object between two receipts of identical bytes (two requests)', () => {
    const transfer = scope(() => {
      set(requestId, 'r-same-bytes');
      set(profile, { plan: 'free' });
      return toTransfer(snapshot());
    });
    const first = fromTransfer(structuredClone(transfer));
    const second = fromTransfer(structuredClone(transfer));
    expect(second.get(requestId)).toBe('r-same-bytes');
    first.get(profile)!.plan = 'changed by the first request';
    expect(second.get(profile)).toEqual({ plan: 'free' });
  });
});

describe('errorContext', () => {
  it('attaches the non-local values and the chain, enumerable, with the snapshot hidden', () => {
    const context = scope('http', () => {
      set(requestId, 'r-err');
      set(tenant, { id: 1 });
      return snapshot();
    });
    const error = attachContext(new Error('boom'), context) as Error;
    expect(errorContext(error)).toEqual({ scopeChain: ['http'], values: { request_id: 'r-err' } });
    expect(errorContext(error)?.snapshot).toBe(context);
    expect(Object.keys(error)).toEqual(['dcontext']);
  });

  it('keeps a key named __proto__ as a value, never as the prototype of values', () => {
    const context = scope(() => {
      set(protoNamed, { polluted: true });
      set(requestId, 'r-proto');
      return snapshot();
    });
    const values = errorContext(attachContext(new Error('x'), context))!.values;
    expect(Object.getPrototypeOf(values)).toBeNull();
    expect(Object.hasOwn(values, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(values, '__proto__')?.value).toEqual({ polluted: true });
    expect((values as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(values).sort()).toEqual(['__proto__', 'request_id']);
  });

  it('keeps the innermost context and leaves primitives and frozen errors alone', () => {
    const outer = scope(() => {
      set(requestId, 'r-outer');
      return snapshot();
    });
    const inner = scope(() => {
      set(requestId, 'r-inner');
      return snapshot();
    });
    const error = attachContext(attachContext(new Error('x'), inner), outer);
    expect(errorContext(error)?.values).toEqual({ request_id: 'r-inner' });
    expect(attachContext('a string', outer)).toBe('a string');
    const frozen = Object.freeze(new Error('frozen'));
    expect(errorContext(attachContext(frozen, outer))).toBeUndefined();
    expect(errorContext({ dcontext: { scopeChain: 'no' } })).toBeUndefined();
  });
});

describe('adopting the context in a worker', () => {
  function report<T>(worker: Worker): Promise<T> {
    return new Promise((resolve, reject) => {
      worker.once('message', (message: T) => {
        resolve(message);
        void worker.terminate();
      });
      worker.once('error', reject);
    });
  }

  it('works for a CommonJS worker using the CommonJS build', async () => {
    const { spawnWithContext } = await import('../../src/worker/index.js');
    const seen = await scope('http', () => {
      set(requestId, 'r-cjs');
      set(tenant, { id: 5 });
      return report(spawnWithContext(fixture('spawn-reader.cjs')));
    });
    expect(seen).toEqual({ top: 'r-cjs', tenant: { id: 5 }, chain: ['http'] });
  });

  it('works for an eval worker', async () => {
    const { spawnWithContext } = await import('../../src/worker/index.js');
    const code = `require(${JSON.stringify(fixture('spawn-reader.cjs').pathname)})`;
    const seen = await scope('eval', () => {
      set(requestId, 'r-eval');
      return report(spawnWithContext(code, { eval: true }));
    });
    expect(seen).toEqual({ top: 'r-eval', tenant: undefined, chain: ['eval'] });
  });

  it('starts with an empty root and a warning when the context data is unusable', async () => {
    setEnvironmentData('dcontext:spawn-context', { wire: 42 });
    let worker: Worker;
    try {
      worker = new Worker(fixture('adopt-warning.mjs'), { stderr: true }); // the warning is expected
    } finally {
      setEnvironmentData('dcontext:spawn-context', undefined as never);
    }
    const seen = await report<{ warnings: { code: string }[]; top: unknown; chain: string[] }>(
      worker,
    );
    expect(seen.top).toBeUndefined();
    expect(seen.chain).toEqual([]);
    expect(seen.warnings.map((warning) => warning.code)).toEqual(['DCONTEXT_SPAWN_CONTEXT']);
  });
});
