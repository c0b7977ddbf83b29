/**
 * AsyncContext variables next to dcontext's typed keys: one store, one snapshot for both, and
 * variables backed by a registered key (the way a variable opts into the wire format).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  bind,
  ContextKey,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  serialize,
  set,
  snapshot,
  syncCtx,
  withContext,
} from '../../../src/index.js';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { codeOf, sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = new ContextKey<string>('tenant', {
  validate: (value) => typeof value === 'string',
}).registerOn(builder);
const before = new AsyncContext.Variable<string>({ name: 'before-initialize' });

beforeAll(() => initialize(builder));

describe('variables next to typed keys', () => {
  it('works for variables created before and after initialize()', () => {
    const after = new AsyncContext.Variable<string>({ name: 'after-initialize' });
    expect(before.run('b', () => after.run('a', () => [before.get(), after.get()]))).toEqual([
      'b',
      'a',
    ]);
  });

  it('opens a scope: a key set inside run vanishes with it, keys of the caller are seen', () => {
    const variable = new AsyncContext.Variable<number>();
    scope('outer', () => {
      set(requestId, 'r1');
      variable.run(1, () => {
        expect(get(requestId)).toBe('r1');
        expect(scopeChain()).toEqual(['outer']);
        set(requestId, 'inside');
      });
      expect(get(requestId)).toBe('r1');
    });
  });

  it('is seen inside dcontext scopes, and through dcontext snapshots and bind', async () => {
    const variable = new AsyncContext.Variable<string>();
    const [captured, bound] = variable.run('v', () =>
      asyncCtx.scope('inner', () => {
        set(requestId, 'r2');
        expect(variable.get()).toBe('v');
        return [snapshot(), bind(() => [variable.get(), get(requestId)])];
      }),
    );
    expect(withContext(captured, () => [variable.get(), get(requestId)])).toEqual(['v', 'r2']);
    await sleep(1);
    expect(bound()).toEqual(['v', 'r2']);
  });

  it('reads through a sync scope opened inside run, and run inside a sync scope sees its keys', () => {
    const variable = new AsyncContext.Variable<string>();
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'sync');
      variable.run('v', () => expect(get(requestId)).toBe('sync'));
    });
  });

  it('captures typed keys and the scope chain in an AsyncContext.Snapshot', () => {
    const variable = new AsyncContext.Variable<string>();
    const captured = scope('request', () => {
      set(requestId, 'r3');
      return variable.run('v', () => new AsyncContext.Snapshot());
    });
    expect(captured.run(() => [get(requestId), scopeChain(), variable.get()])).toEqual([
      'r3',
      ['request'],
      'v',
    ]);
    expect(captured.toContextSnapshot().get(requestId)).toBe('r3');
  });

  it('keeps plain variables off the wire', () => {
    const variable = new AsyncContext.Variable<string>();
    const wire = scope(() => {
      set(requestId, 'r4');
      return variable.run('secret', () => serialize());
    });
    const received = deserialize(wire);
    expect(received.get(requestId)).toBe('r4');
    expect(withContext(received, () => variable.get())).toBeUndefined();
  });
});

describe('variables backed by a key', () => {
  it('hold the key value: readable with get(key), serialized, and read back on receipt', () => {
    const tenantVar = new AsyncContext.Variable<string>({ key: tenant });
    expect(tenantVar.name).toBe('tenant');
    const wire = tenantVar.run('acme', () => {
      expect(get(tenant)).toBe('acme');
      return serialize();
    });
    expect(tenantVar.get()).toBeUndefined();
    const byName = new AsyncContext.Variable<string>({ key: 'tenant' });
    expect(withContext(deserialize(wire), () => byName.get())).toBe('acme');
  });

  it("reject a value the key's validate refuses, running nothing", () => {
    const tenantVar = new AsyncContext.Variable<string>({ key: tenant });
    let ran = false;
    expect(
      codeOf(() =>
        tenantVar.run(42 as unknown as string, () => {
          ran = true;
        }),
      ),
    ).toBe('TYPE_MISMATCH');
    expect(ran).toBe(false);
  });

  it('refuse a defaultValue (the key has its own default), and an unregistered name on use', () => {
    expect(codeOf(() => new AsyncContext.Variable({ key: tenant, defaultValue: 'x' }))).toBe(
      'INVALID_ARGUMENT',
    );
    const unknown = new AsyncContext.Variable<string>({ key: 'not_registered' });
    expect(codeOf(() => unknown.get())).toBe('NOT_REGISTERED');
  });
});
