import { EventEmitter } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { asyncCtx, initialize, RegistryBuilder, Snapshot, syncCtx } from '../../src/index.js';
import { codeOf, sleep } from '../support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');

beforeAll(() => initialize(builder));

describe('asyncCtx scopes', () => {
  it('keeps values across await, timers, setImmediate, queueMicrotask and nextTick', async () => {
    await asyncCtx.scope(async () => {
      asyncCtx.set(requestId, 'r1');
      await sleep(1);
      expect(asyncCtx.get(requestId)).toBe('r1');
      const seen = await Promise.all([
        new Promise((r) => setTimeout(() => r(asyncCtx.get(requestId)), 1)),
        new Promise((r) => setImmediate(() => r(asyncCtx.get(requestId)))),
        new Promise((r) => queueMicrotask(() => r(asyncCtx.get(requestId)))),
        new Promise((r) => process.nextTick(() => r(asyncCtx.get(requestId)))),
      ]);
      expect(seen).toEqual(['r1', 'r1', 'r1', 'r1']);
    });
  });

  it('follows event callbacks emitted from within the scope', async () => {
    const emitter = new EventEmitter();
    const seen = await asyncCtx.scope(async () => {
      asyncCtx.set(requestId, 'evt');
      const got = new Promise((r) => emitter.once('ping', () => r(asyncCtx.get(requestId))));
      setTimeout(() => emitter.emit('ping'), 1);
      return got;
    });
    expect(seen).toBe('evt');
  });

  it('returns the result of fn, sync or async', async () => {
    expect(asyncCtx.scope(() => 42)).toBe(42);
    await expect(asyncCtx.scope('named', async () => 'done')).resolves.toBe('done');
  });

  it('rolls back after the promise rejects', async () => {
    await asyncCtx.scope(async () => {
      asyncCtx.set(tenant, 'outer');
      await expect(
        asyncCtx.scope(async () => {
          asyncCtx.set(tenant, 'inner');
          await sleep(1);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(asyncCtx.get(tenant)).toBe('outer');
    });
    expect(asyncCtx.isActive()).toBe(false);
    expect(asyncCtx.get(tenant)).toBeUndefined();
  });

  it('gives a child scope the values of its parent at entry, unaffected by later parent writes', async () => {
    await asyncCtx.scope(async () => {
      asyncCtx.set(tenant, 'before');
      const child = asyncCtx.scope(async () => {
        await sleep(5);
        return asyncCtx.get(tenant);
      });
      asyncCtx.set(tenant, 'after');
      expect(await child).toBe('before');
      expect(asyncCtx.get(tenant)).toBe('after');
    });
  });

  it('refuses writes outside any scope', () => {
    expect(codeOf(() => asyncCtx.set(requestId, 'x'))).toBe('NO_ACTIVE_SCOPE');
  });

  it('tracks the scope chain of named async scopes', async () => {
    await asyncCtx.scope('ingress', () =>
      asyncCtx.scope(async () => {
        await asyncCtx.scope('handler', async () => {
          await sleep(1);
          expect(asyncCtx.scopeChain()).toEqual(['ingress', 'handler']);
        });
        expect(asyncCtx.scopeChain()).toEqual(['ingress']);
      }),
    );
  });

  it('withContext runs with a snapshot; writes inside do not change the snapshot', async () => {
    const snap = Snapshot.empty().with(requestId, 'from-snap');
    await asyncCtx.withContext(snap, async () => {
      await sleep(1);
      expect(asyncCtx.get(requestId)).toBe('from-snap');
      asyncCtx.set(requestId, 'changed');
    });
    expect(snap.get(requestId)).toBe('from-snap');
  });

  it('bind carries the context into a callback called from elsewhere', async () => {
    const bound = asyncCtx.scope(() => {
      asyncCtx.set(requestId, 'bound');
      return asyncCtx.bind(() => asyncCtx.get(requestId));
    });
    expect(bound()).toBe('bound');
    const elsewhere = await asyncCtx.scope(async () => {
      asyncCtx.set(requestId, 'other');
      await sleep(1);
      return bound();
    });
    expect(elsewhere).toBe('bound');
  });

  it('is independent of the sync store: syncCtx inside an async scope reads the sync stack', async () => {
    await asyncCtx.scope(async () => {
      asyncCtx.set(tenant, 'async-value');
      expect(syncCtx.get(tenant)).toBeUndefined();
      syncCtx.scope(() => {
        syncCtx.set(tenant, 'sync-value');
        expect(asyncCtx.get(tenant)).toBe('async-value');
      });
    });
  });
});
