/**
 * AsyncContext variables in a process that has not called initialize() (yet): plain variables
 * and snapshots work, key-backed variables fail with a typed error and run nothing.
 */
import { describe, expect, it } from 'vitest';
import { ContextKey, get, initialize, RegistryBuilder } from '../../../src/index.js';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { codeOf, sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const tenant = new ContextKey<string>('tenant').registerOn(builder);

describe('before initialize()', () => {
  it('runs plain variables, snapshots and wrap across awaits', async () => {
    const variable = new AsyncContext.Variable<string>({ defaultValue: 'd' });
    const seen = await variable.run('early', async () => {
      await sleep(1);
      const snapshot = new AsyncContext.Snapshot();
      const wrapped = AsyncContext.Snapshot.wrap(() => variable.get());
      return [variable.get(), snapshot.run(() => variable.get()), wrapped()];
    });
    expect(seen).toEqual(['early', 'early', 'early']);
    expect(variable.get()).toBe('d');
  });

  it('throws a DContextError from a key-backed variable, running nothing', () => {
    const variable = new AsyncContext.Variable<string>({ key: tenant });
    let ran = false;
    const runCode = codeOf(() => variable.run('acme', () => (ran = true)));
    expect(runCode).toBeTypeOf('string');
    expect(ran).toBe(false);
    expect(codeOf(() => variable.get())).toBeTypeOf('string');
  });

  it('keeps a plain binding made before initialize() readable after it', () => {
    const variable = new AsyncContext.Variable<string>();
    variable.run('spans', () => {
      initialize(builder);
      expect(variable.get()).toBe('spans');
      const keyed = new AsyncContext.Variable<string>({ key: tenant });
      expect(keyed.run('acme', () => [get(tenant), variable.get()])).toEqual(['acme', 'spans']);
    });
  });
});
