import { beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  bind,
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  set,
  snapshot,
  syncCtx,
  tryGet,
  update,
  withContext,
} from '../src/index.js';
import { sleep } from './support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const hits = builder.register<number>('hits');
beforeAll(() => initialize(builder));

describe('top-level verbs', () => {
  it('use asyncCtx when an async scope is active', async () => {
    await scope('handler', async () => {
      set(requestId, 'async');
      update(hits, (n) => (n ?? 0) + 1);
      await sleep(1);
      expect(asyncCtx.get(requestId)).toBe('async');
      expect(get(hits)).toBe(1);
      expect(scopeChain()).toEqual(['handler']);
      expect(snapshot().get(requestId)).toBe('async');
      expect(syncCtx.get(requestId)).toBeUndefined();
    });
  });

  it('use syncCtx when no async scope is active', () => {
    syncCtx.scope('sync', () => {
      set(requestId, 'sync');
      expect(syncCtx.get(requestId)).toBe('sync');
      expect(get(requestId)).toBe('sync');
      expect(tryGet('not-a-key')).toBeUndefined();
      expect(scopeChain()).toEqual(['sync']);
    });
  });

  it('scope, withContext and bind accept sync and async functions and use asyncCtx', async () => {
    expect(scope(() => 'sync result')).toBe('sync result');
    const snap = syncCtx.scope(() => {
      set(requestId, 'snap');
      return snapshot();
    });
    const bound = withContext(snap, () => bind(() => get(requestId)));
    expect(await withContext(snap, async () => get(requestId))).toBe('snap');
    expect(bound()).toBe('snap');
  });
});
