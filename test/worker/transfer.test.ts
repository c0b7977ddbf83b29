import { setEnvironmentData, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  set,
  snapshot,
  update,
} from '../../src/index.js';
import { attachContext } from '../../src/worker/error-context.js';
import { errorContext } from '../../src/worker/index.js';
import { fromTransfer, isTransfer, toTransfer } from '../../src/worker/transfer.js';
import { assertBuilt, fixture } from './support/built.js';

assertBuilt();

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.registerLocal<{ id: number }>('tenant_handle');
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

  it('encodes once per scope: a captured slot array never changes', () => {
    scope(() => {
      set(requestId, 'r-cached');
      const first = toTransfer(snapshot());
      expect(toTransfer(snapshot())).toBe(first);
      update(requestId, (id) => `${id}-changed`);
      const second = toTransfer(snapshot());
      expect(second).not.toBe(first);
      expect(fromTransfer(second).get(requestId)).toBe('r-cached-changed');
      // A child scope that writes nothing shares its parent's slots, but not its chain.
      const named = scope('child', () => toTransfer(snapshot()));
      expect(named).not.toBe(second);
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

  it('reuses the decoded snapshot of an identical context, without sharing scopes', () => {
    const transfer = scope(() => {
      set(requestId, 'r-decoded-once');
      return toTransfer(snapshot());
    });
    const first = fromTransfer(structuredClone(transfer));
    const second = fromTransfer(structuredClone(transfer));
    expect(second).toBe(first);
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
