/**
 * The behaviours of the TC39 AsyncContext proposal's own test suite (nesting, wrap, snapshots
 * taken and run later), rewritten, plus what its semantics say about promises, `this`,
 * arguments and errors. No initialize() here: the API works without a registry.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { codeOf, sleep } from '../../support/codes.js';

type Value = { id: number };
const first: Value = { id: 1 };
const second: Value = { id: 2 };
const third: Value = { id: 3 };

/**
 * Runs `body` from the initial state, inside another variable's run, and inside a run whose
 * context has been captured (the proposal's harness: a captured context takes other paths).
 */
function fromEveryState(name: string, body: () => void): void {
  it(name, () => {
    body();
    const throwaway = new AsyncContext.Variable<null>();
    throwaway.run(null, body);
    throwaway.run(null, () => {
      AsyncContext.Snapshot.wrap(() => {});
      body();
    });
  });
}

describe('Variable run and get', () => {
  fromEveryState('reads undefined where nothing is bound', () => {
    expect(new AsyncContext.Variable<Value>().get()).toBeUndefined();
  });

  fromEveryState('returns what fn returns', () => {
    const variable = new AsyncContext.Variable<Value>();
    expect(variable.run(second, () => first)).toBe(first);
  });

  fromEveryState('reads the innermost binding, and the outer one again after', () => {
    const variable = new AsyncContext.Variable<Value>();
    variable.run(first, () => {
      expect(variable.get()).toBe(first);
      variable.run(second, () => expect(variable.get()).toBe(second));
      expect(variable.get()).toBe(first);
    });
    expect(variable.get()).toBeUndefined();
  });

  fromEveryState('keeps variables apart', () => {
    const a = new AsyncContext.Variable<Value>();
    const b = new AsyncContext.Variable<Value>();
    a.run(first, () => {
      expect([a.get(), b.get()]).toEqual([first, undefined]);
      b.run(second, () => expect([a.get(), b.get()]).toEqual([first, second]));
      expect([a.get(), b.get()]).toEqual([first, undefined]);
    });
    expect([a.get(), b.get()]).toEqual([undefined, undefined]);
  });

  it('returns the default value where unbound, and undefined when bound to undefined', () => {
    const variable = new AsyncContext.Variable<string | undefined>({ defaultValue: 'fallback' });
    expect(variable.get()).toBe('fallback');
    expect(variable.run('set', () => variable.get())).toBe('set');
    expect(variable.run(undefined, () => variable.get())).toBeUndefined();
  });

  it('has the name it was given, as a string, and an empty one by default', () => {
    expect(new AsyncContext.Variable({ name: 'user' }).name).toBe('user');
    expect(new AsyncContext.Variable({ name: 42 as unknown as string }).name).toBe('42');
    expect(new AsyncContext.Variable().name).toBe('');
  });

  it('passes the extra arguments to fn, with this undefined', () => {
    const variable = new AsyncContext.Variable<number>();
    const seen = variable.run(
      1,
      function (this: unknown, x: number, y: string) {
        return [this, x, y, variable.get()];
      },
      2,
      'three',
    );
    expect(seen).toEqual([undefined, 2, 'three', 1]);
    expect(
      variable.run(1, function (this: unknown) {
        return this;
      }),
    ).toBeUndefined();
  });

  it('restores the outer binding when fn throws, and rethrows the error', () => {
    const variable = new AsyncContext.Variable<Value>();
    const boom = new Error('boom');
    variable.run(first, () => {
      expect(() =>
        variable.run(second, () => {
          throw boom;
        }),
      ).toThrow(boom);
      expect(variable.get()).toBe(first);
    });
  });

  it('rejects a non-function with INVALID_ARGUMENT, and bad options too', () => {
    const variable = new AsyncContext.Variable<number>();
    expect(codeOf(() => variable.run(1, 'nope' as unknown as () => void))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new AsyncContext.Variable(7 as unknown as object))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => new AsyncContext.Variable({ key: 5 as unknown as string }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => new AsyncContext.Snapshot().run(null as unknown as () => void))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => AsyncContext.Snapshot.wrap({} as unknown as () => void))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('stays correct when runs nest deeper than the chain is kept flat (every variable)', () => {
    const variables = Array.from(
      { length: 40 },
      (_, i) => new AsyncContext.Variable<number>({ name: `v${i}` }),
    );
    const nest = (depth: number): void => {
      if (depth === 120) {
        // variable i was last bound at depth 80 + i for i < 40 (the third pass)
        expect(variables.map((variable) => variable.get())).toEqual(
          variables.map((_, i) => 80 + i),
        );
        return;
      }
      variables[depth % 40]!.run(depth, () => nest(depth + 1));
      variables.forEach((variable, i) => {
        const expected = depth <= i ? undefined : i + 40 * Math.floor((depth - 1 - i) / 40);
        expect(variable.get()).toBe(expected);
      });
    };
    nest(0);
  });
});

describe('Snapshot.wrap', () => {
  fromEveryState('captures the unbound state', () => {
    const variable = new AsyncContext.Variable<Value>();
    const wrapped = AsyncContext.Snapshot.wrap(() => variable.get());
    variable.run(first, () => expect(wrapped()).toBeUndefined());
  });

  fromEveryState('captures the current binding, and leaves the caller as it was', () => {
    const variable = new AsyncContext.Variable<Value>();
    const wrapped = variable.run(first, () => {
      const inner = AsyncContext.Snapshot.wrap(() => variable.get());
      expect(inner()).toBe(first);
      return inner;
    });
    expect(wrapped()).toBe(first);
    expect(variable.get()).toBeUndefined();
  });

  fromEveryState('runs nested runs inside the wrapped function', () => {
    const variable = new AsyncContext.Variable<Value>();
    const check = (): void => {
      expect(variable.get()).toBe(first);
      variable.run(second, () => expect(variable.get()).toBe(second));
      expect(variable.get()).toBe(first);
    };
    const [wrap1, wrap2] = variable.run(first, () => {
      const wrap1 = AsyncContext.Snapshot.wrap(check);
      variable.run(second, () => expect(variable.get()).toBe(second));
      const wrap2 = AsyncContext.Snapshot.wrap(check);
      return [wrap1, wrap2];
    });
    wrap1();
    wrap2();
    expect(variable.get()).toBeUndefined();
  });

  fromEveryState('does not see runs of another variable made after the wrap', () => {
    const a = new AsyncContext.Variable<Value>();
    const b = new AsyncContext.Variable<Value>();
    const check = (): void => {
      expect([a.get(), b.get()]).toEqual([first, undefined]);
      b.run(second, () => expect([a.get(), b.get()]).toEqual([first, second]));
      expect([a.get(), b.get()]).toEqual([first, undefined]);
    };
    const wraps = a.run(first, () => {
      const wrap1 = AsyncContext.Snapshot.wrap(check);
      a.run(second, () => {});
      b.run(second, () => {});
      const wrap2 = AsyncContext.Snapshot.wrap(check);
      return [wrap1, wrap2];
    });
    for (const wrap of wraps) wrap();
    expect([a.get(), b.get()]).toEqual([undefined, undefined]);
  });

  fromEveryState('calls wraps of outer contexts from inner ones, and the reverse', () => {
    const a = new AsyncContext.Variable<Value>();
    const b = new AsyncContext.Variable<Value>();
    const [outer, inner] = a.run(first, () => {
      const outer = AsyncContext.Snapshot.wrap(() =>
        expect([a.get(), b.get()]).toEqual([first, undefined]),
      );
      outer();
      const inner = b.run(second, () => {
        const inner = AsyncContext.Snapshot.wrap(() => {
          outer();
          expect([a.get(), b.get()]).toEqual([first, second]);
        });
        outer();
        inner();
        expect([a.get(), b.get()]).toEqual([first, second]);
        return inner;
      });
      outer();
      inner();
      expect([a.get(), b.get()]).toEqual([first, undefined]);
      return [outer, inner];
    });
    outer();
    inner();
    expect([a.get(), b.get()]).toEqual([undefined, undefined]);
  });

  // The proposal's "wrap within nesting different contexts, 2..6": a capture at any level of
  // three nested runs changes nothing about what the others see.
  for (const captureAt of ['none', 'a', 'b', 'c-after', 'b-after'] as const) {
    fromEveryState(`sees three nested variables (extra capture: ${captureAt})`, () => {
      const a = new AsyncContext.Variable<Value>();
      const b = new AsyncContext.Variable<Value>();
      const c = new AsyncContext.Variable<Value>();
      const extra = (at: string): void => {
        if (at === captureAt) AsyncContext.Snapshot.wrap(() => {});
      };
      const wrap = a.run(first, () => {
        extra('a');
        const wrap = b.run(second, () => {
          extra('b');
          const wrap = c.run(third, () =>
            AsyncContext.Snapshot.wrap(() =>
              expect([a.get(), b.get(), c.get()]).toEqual([first, second, third]),
            ),
          );
          extra('c-after');
          expect([a.get(), b.get(), c.get()]).toEqual([first, second, undefined]);
          return wrap;
        });
        extra('b-after');
        expect([a.get(), b.get(), c.get()]).toEqual([first, undefined, undefined]);
        return wrap;
      });
      expect([a.get(), b.get(), c.get()]).toEqual([undefined, undefined, undefined]);
      wrap();
      expect([a.get(), b.get(), c.get()]).toEqual([undefined, undefined, undefined]);
    });
  }

  fromEveryState('runs wraps out of order', () => {
    const variable = new AsyncContext.Variable<Value>();
    const wrapFirst = variable.run(first, () => AsyncContext.Snapshot.wrap(() => variable.get()));
    const wrapSecond = variable.run(second, () => AsyncContext.Snapshot.wrap(() => variable.get()));
    expect([wrapFirst(), wrapSecond(), wrapFirst(), wrapSecond()]).toEqual([
      first,
      second,
      first,
      second,
    ]);
  });

  it('passes this and the arguments through, and returns the result', () => {
    const variable = new AsyncContext.Variable<string>();
    const target = {
      label: 'target',
      describe: variable.run('captured', () =>
        AsyncContext.Snapshot.wrap(function (this: { label: string }, x: number, y: number) {
          return `${this.label}:${x + y}:${variable.get()}`;
        }),
      ),
    };
    expect(variable.run('caller', () => target.describe(1, 2))).toBe('target:3:captured');
  });

  it('names the wrapped function after fn and keeps its length', () => {
    const wrapped = AsyncContext.Snapshot.wrap(function onData(_a: number, _b: number) {});
    expect([wrapped.name, wrapped.length]).toEqual(['wrapped onData', 2]);
  });

  it('restores the caller context when the wrapped function throws', () => {
    const variable = new AsyncContext.Variable<string>();
    const boom = new Error('boom');
    const wrapped = variable.run('captured', () =>
      AsyncContext.Snapshot.wrap(() => {
        throw boom;
      }),
    );
    variable.run('caller', () => {
      expect(() => wrapped()).toThrow(boom);
      expect(variable.get()).toBe('caller');
    });
  });

  it('binds an event listener to the context it was added in', () => {
    const variable = new AsyncContext.Variable<string>();
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    variable.run('listener', () =>
      emitter.on(
        'ping',
        AsyncContext.Snapshot.wrap(() => seen.push(variable.get())),
      ),
    );
    variable.run('emitter', () => emitter.emit('ping'));
    emitter.emit('ping');
    expect(seen).toEqual(['listener', 'listener']);
  });
});

describe('Snapshot', () => {
  it('captures every variable at construction and runs fn in it later, any number of times', () => {
    const a = new AsyncContext.Variable<Value>();
    const b = new AsyncContext.Variable<Value>({ defaultValue: third });
    const snapshot = a.run(first, () => b.run(second, () => new AsyncContext.Snapshot()));
    const read = (): unknown[] => [a.get(), b.get()];
    expect(snapshot.run(read)).toEqual([first, second]);
    a.run(third, () => expect(snapshot.run(read)).toEqual([first, second]));
    expect(snapshot.run(read)).toEqual([first, second]);
    expect(read()).toEqual([undefined, third]);
  });

  it('passes arguments to fn with this undefined, and restores the context when fn throws', () => {
    const variable = new AsyncContext.Variable<string>();
    const snapshot = variable.run('captured', () => new AsyncContext.Snapshot());
    expect(
      snapshot.run(function (this: unknown, x: number) {
        return [this, x, variable.get()];
      }, 5),
    ).toEqual([undefined, 5, 'captured']);
    expect(
      snapshot.run(function (this: unknown) {
        return this;
      }),
    ).toBeUndefined();
    variable.run('caller', () => {
      expect(() =>
        snapshot.run(() => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(variable.get()).toBe('caller');
    });
  });

  it('is unaffected by runs made inside snapshot.run', () => {
    const variable = new AsyncContext.Variable<string>();
    const snapshot = variable.run('captured', () => new AsyncContext.Snapshot());
    snapshot.run(() => variable.run('inner', () => expect(variable.get()).toBe('inner')));
    expect(snapshot.run(() => variable.get())).toBe('captured');
  });

  it('needs new', () => {
    const callable = AsyncContext.Snapshot as unknown as () => unknown;
    expect(() => callable()).toThrow(TypeError);
  });
});

describe('async flow', () => {
  it('keeps the binding across await, timers, setImmediate, queueMicrotask and nextTick', async () => {
    const variable = new AsyncContext.Variable<string>();
    const seen = await variable.run('flow', async () => {
      await sleep(1);
      const after = variable.get();
      const scheduled = await Promise.all([
        new Promise((r) => setTimeout(() => r(variable.get()), 1)),
        new Promise((r) => setImmediate(() => r(variable.get()))),
        new Promise((r) => queueMicrotask(() => r(variable.get()))),
        new Promise((r) => process.nextTick(() => r(variable.get()))),
      ]);
      return [after, ...scheduled];
    });
    expect(seen).toEqual(['flow', 'flow', 'flow', 'flow', 'flow']);
    expect(variable.get()).toBeUndefined();
  });

  it('runs a promise reaction in the context where then() was called, not where it resolved', async () => {
    const variable = new AsyncContext.Variable<string>();
    let resolve!: () => void;
    const promise = variable.run('creation', () => new Promise<void>((r) => (resolve = r)));
    const reaction = variable.run('registration', () => promise.then(() => variable.get()));
    variable.run('resolution', () => resolve());
    expect(await reaction).toBe('registration');
  });

  it('runs an awaiting function on in its own context, whoever resolves what it awaits', async () => {
    const variable = new AsyncContext.Variable<string>();
    let resolve!: () => void;
    const gate = new Promise<void>((r) => (resolve = r));
    const waiter = variable.run('waiter', async () => {
      await gate;
      return variable.get();
    });
    variable.run('resolver', () => resolve());
    expect(await waiter).toBe('waiter');
  });

  it('isolates 1,000 interleaved tasks with random delays', async () => {
    const a = new AsyncContext.Variable<number>();
    const b = new AsyncContext.Variable<string>();
    const mismatches: number[] = [];
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        a.run(i, () =>
          b.run(`t${i}`, async () => {
            const snapshot = new AsyncContext.Snapshot();
            await sleep(Math.random() * 5);
            if (a.get() !== i || b.get() !== `t${i}`) mismatches.push(i);
            await new Promise((r) => setImmediate(r));
            b.run('inner', () => {
              if (a.get() !== i) mismatches.push(i);
            });
            if (b.get() !== `t${i}`) mismatches.push(i);
            if (snapshot.run(() => a.get()) !== i) mismatches.push(i);
          }),
        ),
      ),
    );
    expect(mismatches).toEqual([]);
  });
});
