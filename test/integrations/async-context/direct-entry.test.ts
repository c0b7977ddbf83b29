/**
 * On Node 20 and 22 a variable's `run` enters its frame on the async resource itself, as
 * `als.run` would (src/store/resource-store.ts). Its own file: it disables the process's one
 * AsyncLocalStorage, which a user (or another library holding it) could do.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { runtime } from '../../../src/internal/runtime.js';

describe('AsyncContext.Variable entries', () => {
  it('agree with the AsyncLocalStorage: the store inside run is the bound frame, outside it is not', async () => {
    const variable = new AsyncContext.Variable<number>({ defaultValue: 0 });
    const outer = runtime.als.getStore();
    const seen = await variable.run(1, async () => {
      const inside = runtime.als.getStore();
      const later = new Promise<number>((resolve) => setTimeout(() => resolve(variable.get()!), 1));
      await sleep(1);
      return [inside !== outer, inside === runtime.als.getStore(), variable.get(), await later];
    });
    expect(seen).toEqual([true, true, 1, 1]);
    expect(runtime.als.getStore()).toBe(outer);
    expect(variable.get()).toBe(0);
  });

  it('still bind after the AsyncLocalStorage was disabled (run re-enables it)', async () => {
    const variable = new AsyncContext.Variable<string>({ defaultValue: 'none' });
    expect(variable.run('warm', () => variable.get())).toBe('warm');
    runtime.als.disable();
    expect(variable.run('after disable', () => variable.get())).toBe('after disable');
    const continued = await variable.run('async', async () => {
      await sleep(1);
      return variable.get();
    });
    expect(continued).toBe('async');
    expect(variable.get()).toBe('none');
  });
});
