/**
 * AsyncContext variables under a careless or hostile caller: odd values, many variables, deep
 * nesting, non-functions, generators, thenables, key-backed variables given bad keys or values.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { get, initialize, RegistryBuilder, scope, set } from '../../../src/index.js';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { codeOf, sleep } from '../../support/codes.js';

const builder = new RegistryBuilder();
const tenant = builder.register<string>('tenant', { validate: (v) => typeof v === 'string' });
beforeAll(() => initialize(builder));

describe('values a variable holds', () => {
  it('keeps symbols, functions, null and undefined as bound, distinct from the default', () => {
    const variable = new AsyncContext.Variable<unknown>({ defaultValue: 'default' });
    const symbol = Symbol('s');
    const fn = () => 1;
    for (const value of [symbol, fn, null, undefined, 0, '', Number.NaN]) {
      expect(variable.run(value, () => variable.get())).toBe(value);
    }
    expect(variable.get()).toBe('default');
  });

  it('treats name: undefined as no name, as the proposal does', () => {
    expect(new AsyncContext.Variable({ name: undefined }).name).toBe('');
    expect(new AsyncContext.Variable({ name: 42 as unknown as string }).name).toBe('42');
  });
});

describe('scale', () => {
  it('keeps 5,000 variables bound at once apart', () => {
    const variables = Array.from(
      { length: 5000 },
      (_, i) => new AsyncContext.Variable<number>({ name: `v${i}` }),
    );
    const nest = (i: number): number[] =>
      i === variables.length
        ? variables.map((v) => v.get() as number)
        : variables[i]!.run(i, () => nest(i + 1));
    // 5,000 nested frames is deep for the stack: run them in chunks through snapshots.
    let snapshot = new AsyncContext.Snapshot();
    for (let start = 0; start < variables.length; start += 500) {
      snapshot = snapshot.run(() => {
        const inner = (i: number): AsyncContext.Snapshot =>
          i === Math.min(start + 500, variables.length)
            ? new AsyncContext.Snapshot()
            : variables[i]!.run(i, () => inner(i + 1));
        return inner(start);
      });
    }
    const seen = snapshot.run(() => variables.map((v) => v.get()));
    expect(seen).toEqual(variables.map((_, i) => i));
    expect(variables[0]!.get()).toBeUndefined();
    expect(typeof nest).toBe('function');
  });

  it('nests 10,000 runs (an await between levels) without a stack overflow, reading the innermost', async () => {
    const variable = new AsyncContext.Variable<number>();
    const other = new AsyncContext.Variable<string>();
    const depth = (n: number): Promise<number> =>
      n === 0
        ? Promise.resolve(variable.get() as number)
        : variable.run(n, async () => {
            await null;
            return depth(n - 1);
          });
    expect(await other.run('outer', () => depth(10_000))).toBe(1);
    expect(variable.get()).toBeUndefined();
  });

  it('nests 500 runs synchronously, each level reading its own value', () => {
    const variable = new AsyncContext.Variable<number>();
    const depth = (n: number): boolean =>
      n === 0 || variable.run(n, () => depth(n - 1) && variable.get() === n);
    expect(depth(500)).toBe(true);
  });
});

describe('non-functions and forwarding', () => {
  it('refuses non-functions in wrap, Snapshot.run and Variable.run with INVALID_ARGUMENT', () => {
    const variable = new AsyncContext.Variable<number>();
    for (const bad of [undefined, null, 1, 'fn', {}, Symbol('x')]) {
      expect(codeOf(() => AsyncContext.Snapshot.wrap(bad as never))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => new AsyncContext.Snapshot().run(bad as never))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => variable.run(1, bad as never))).toBe('INVALID_ARGUMENT');
    }
  });

  it('wraps a class constructor: calling it throws TypeError, the context is restored', () => {
    const variable = new AsyncContext.Variable<number>();
    class Klass {}
    const wrapped = variable.run(1, () => AsyncContext.Snapshot.wrap(Klass as never));
    expect(() => (wrapped as () => void)()).toThrow(TypeError);
    expect(variable.get()).toBeUndefined();
  });
});

describe('generators, thenables, errors', () => {
  it('runs a generator body in the context of each next() call (AsyncLocalStorage semantics)', () => {
    const variable = new AsyncContext.Variable<string>();
    function* gen() {
      yield variable.get();
      yield variable.get();
    }
    const it1 = variable.run('created', () => gen());
    // A documented departure (docs/async-context.md): the proposal restores the creation context.
    expect(variable.run('first', () => it1.next().value)).toBe('first');
  });

  it('keeps the binding inside an async generator across awaits and yields', async () => {
    const variable = new AsyncContext.Variable<string>();
    async function* gen() {
      await sleep(1);
      yield variable.get();
      await sleep(1);
      yield variable.get();
    }
    const seen = await variable.run('ag', async () => {
      const out: unknown[] = [];
      for await (const v of gen()) out.push(v);
      return out;
    });
    expect(seen).toEqual(['ag', 'ag']);
  });

  it('calls a thenable then() in the awaiting context', async () => {
    const variable = new AsyncContext.Variable<string>();
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test awaits
      then(resolve: (v: unknown) => void) {
        resolve(variable.get());
      },
    };
    expect(await variable.run('t', async () => await thenable)).toBe('t');
  });

  it('restores the context after an async fn rejects', async () => {
    const variable = new AsyncContext.Variable<string>();
    await expect(
      variable.run('x', async () => {
        await sleep(1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(variable.get()).toBeUndefined();
  });
});

describe('key-backed variables given bad input', () => {
  it('throws NOT_REGISTERED for an unregistered key on run, running nothing', () => {
    const variable = new AsyncContext.Variable<string>({ key: 'nope' });
    let ran = false;
    expect(codeOf(() => variable.run('x', () => (ran = true)))).toBe('NOT_REGISTERED');
    expect(ran).toBe(false);
  });

  it('accepts defaultValue: undefined next to key (the same as leaving it out)', () => {
    const variable = new AsyncContext.Variable<string>({ key: tenant, defaultValue: undefined });
    expect(variable.run('acme', () => get(tenant))).toBe('acme');
  });

  it('leaves nothing behind when validate refuses the value', () => {
    const variable = new AsyncContext.Variable<string>({ key: tenant });
    scope(() => {
      set(tenant, 'outer');
      expect(codeOf(() => variable.run(7 as never, () => 0))).toBe('TYPE_MISMATCH');
      expect(get(tenant)).toBe('outer');
      expect(variable.get()).toBe('outer');
    });
  });
});

describe('concurrency with scopes', () => {
  it('isolates 1,000 tasks mixing variable runs and dcontext scopes with random delays', async () => {
    const variable = new AsyncContext.Variable<number>();
    const mismatches: number[] = [];
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        variable.run(i, () =>
          scope(async () => {
            set(tenant, `t${i}`);
            await sleep(Math.random() * 5);
            const inner = await variable.run(-i, async () => {
              await sleep(Math.random() * 3);
              return variable.get();
            });
            await sleep(Math.random() * 3);
            if (variable.get() !== i || inner !== -i || get(tenant) !== `t${i}`) mismatches.push(i);
          }),
        ),
      ),
    );
    expect(mismatches).toEqual([]);
    expect(variable.get()).toBeUndefined();
    expect(get(tenant)).toBeUndefined();
  });
});
