/**
 * DContextManager against the behaviours of OpenTelemetry's own context-manager test suite
 * (opentelemetry-context-async-hooks' AsyncHooksContextManager.test.ts): nested and async `with`,
 * timers, concurrent chains, `bind` of functions and emitters, disable/enable. Plus what is
 * dcontext's own: the OpenTelemetry context and dcontext's scopes live in one store.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  set,
  snapshot,
  withContext,
} from '../../../src/index.js';
import { DContextManager } from '../../../src/integrations/otel/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

const key = createContextKey('test key');
/** A context holding `value`, told apart by identity (as OpenTelemetry's tests do). */
const ctx = (value: unknown): Context => ROOT_CONTEXT.setValue(key, value);

let manager: DContextManager;
let other: AsyncLocalStorageContextManager | undefined;
beforeEach(() => {
  manager = new DContextManager().enable();
});
afterEach(() => {
  manager.disable();
  other?.disable();
  other = undefined;
});

describe('enable() and disable()', () => {
  it('return the manager', () => {
    const fresh = new DContextManager();
    expect(fresh.enable()).toBe(fresh);
    expect(fresh.disable()).toBe(fresh);
  });

  it('a disabled manager reads ROOT_CONTEXT where a context was entered, and enable() brings it back', () => {
    const inner = ctx(1);
    manager.with(inner, () => {
      manager.disable();
      expect(manager.active()).toBe(ROOT_CONTEXT);
      manager.enable();
      expect(manager.active()).toBe(inner);
    });
  });

  it('with() on a disabled manager still runs its callback in the given context', () => {
    manager.disable();
    const inner = ctx(2);
    const seen = manager.with(inner, () => manager.active());
    expect(seen).toBe(inner);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });
});

describe('with()', () => {
  it('runs the callback with the context active, and ROOT_CONTEXT outside', () => {
    const inner = ctx(1);
    expect(manager.active()).toBe(ROOT_CONTEXT);
    expect(manager.with(inner, () => manager.active())).toBe(inner);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('rethrows what the callback throws, and restores the outer context', () => {
    const outer = ctx('outer');
    manager.with(outer, () => {
      expect(() =>
        manager.with(ctx('inner'), () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(manager.active()).toBe(outer);
    });
  });

  it('forwards this, the arguments and the return value', () => {
    function withThis(this: string, ...args: [string, number]): string {
      expect(this).toBe('that');
      expect(args).toHaveLength(2);
      return `${this}:${args[0]}:${args[1]}`;
    }
    expect(manager.with(ROOT_CONTEXT, withThis, 'that', 'one', 2)).toBe('that:one:2');
    expect(manager.with(ROOT_CONTEXT, () => 3.14)).toBe(3.14);
  });

  it('restores the outer context after a nested with()', () => {
    const one = ctx(1);
    const two = ctx(2);
    manager.with(one, () => {
      expect(manager.active()).toBe(one);
      manager.with(two, () => expect(manager.active()).toBe(two));
      expect(manager.active()).toBe(one);
    });
  });

  it('keeps the context in a timer started inside', async () => {
    const inner = ctx('timer');
    const seen = await new Promise((resolve) => {
      manager.with(inner, () => setTimeout(() => resolve(manager.active()), 5));
    });
    expect(seen).toBe(inner);
  });

  it('an async function called from a nested with() sees the nested context after an await', async () => {
    const one = ctx(1);
    const two = ctx(2);
    let pending: Promise<Context> | undefined;
    manager.with(one, () => {
      pending = manager.with(two, async () => {
        await (async () => {})();
        return manager.active();
      });
      expect(manager.active()).toBe(one);
    });
    expect(manager.active()).toBe(ROOT_CONTEXT);
    expect(await pending).toBe(two);
  });

  it('does not lose the context across a timed await', async () => {
    const inner = ctx('kept');
    const done = manager.with(inner, async () => {
      await sleep(20);
      return manager.active();
    });
    expect(manager.active()).toBe(ROOT_CONTEXT);
    expect(await done).toBe(inner);
  });

  it('restores each level through four nested async with() calls', async () => {
    const [c1, c2, c3, c4] = [ctx(1), ctx(2), ctx(3), ctx(4)];
    const seen: Context[] = [];
    await manager.with(c1, async () => {
      seen.push(manager.active());
      await manager.with(c2, async () => {
        seen.push(manager.active());
        await manager.with(c3, async () => {
          seen.push(manager.active());
          await manager.with(c4, async () => {
            seen.push(manager.active());
          });
          seen.push(manager.active());
        });
        seen.push(manager.active());
      });
      seen.push(manager.active());
    });
    seen.push(manager.active());
    expect(seen).toEqual([c1, c2, c3, c4, c3, c2, c1, ROOT_CONTEXT]);
    // toEqual compares structure: check identities too.
    expect(seen.map((c) => [c1, c2, c3, c4, ROOT_CONTEXT].indexOf(c))).toEqual([
      0, 1, 2, 3, 2, 1, 0, 4,
    ]);
  });

  it('keeps two concurrent chains apart through timers and nested with()', async () => {
    const [c1, c2, c3, c4] = [ctx(1), ctx(2), ctx(3), ctx(4)];
    const log: string[] = [];
    const name = (c: Context) => String(c.getValue(key) ?? 'root');
    const first = new Promise<void>((resolve) => {
      manager.with(c1, () => {
        setTimeout(async () => {
          await manager.with(c3, async () => log.push(`c3 sees ${name(manager.active())}`));
          log.push(`c1 timer sees ${name(manager.active())}`);
          resolve();
        }, 40);
      });
    });
    const second = new Promise<void>((resolve) => {
      manager.with(c2, () => {
        setTimeout(() => {
          manager.with(c4, () => log.push(`c4 sees ${name(manager.active())}`));
          log.push(`c2 timer sees ${name(manager.active())}`);
          resolve();
        }, 10);
      });
    });
    expect(manager.active()).toBe(ROOT_CONTEXT);
    await Promise.all([first, second]);
    expect(log).toEqual(['c4 sees 4', 'c2 timer sees 2', 'c3 sees 3', 'c1 timer sees 1']);
  });

  it('timers of the same timeout started inside and outside with() each keep their own context', async () => {
    const root = manager.active();
    const inner = root.setValue(Symbol('test'), 23);
    const seen = await Promise.all([
      new Promise((resolve) =>
        manager.with(inner, () => setTimeout(() => resolve(manager.active()), 2)),
      ),
      new Promise((resolve) => setTimeout(() => resolve(manager.active()), 2)),
      new Promise((resolve) => setTimeout(() => resolve(manager.active()), 3)),
    ]);
    expect(seen[0]).toBe(inner);
    expect(seen[1]).toBe(root);
    expect(seen[2]).toBe(root);
  });

  it('many interleaved chains with random delays each see only their own context', async () => {
    const chains = Array.from({ length: 200 }, (_, i) => ctx(i));
    const mismatches = await Promise.all(
      chains.map((c) =>
        manager.with(c, async () => {
          let wrong = 0;
          for (let step = 0; step < 4; step++) {
            await sleep(Math.random() * 5);
            if (manager.active() !== c) wrong++;
            await manager.with(c.setValue(Symbol('inner'), step), async () => {
              await sleep(Math.random() * 3);
              if (manager.active().getValue(key) !== c.getValue(key)) wrong++;
            });
            if (manager.active() !== c) wrong++;
          }
          return wrong;
        }),
      ),
    );
    expect(mismatches.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('does not influence another context manager (AsyncLocalStorageContextManager) and is not influenced by it', () => {
    other = new AsyncLocalStorageContextManager().enable();
    const mine = ctx(2);
    const theirs = ctx(3);
    manager.with(mine, () => {
      expect(manager.active()).toBe(mine);
      expect(other!.active()).toBe(ROOT_CONTEXT);
      other!.with(theirs, () => {
        expect(manager.active()).toBe(mine);
        expect(other!.active()).toBe(theirs);
      });
    });
  });

  it('two DContextManagers share the one store (one context per process, not one per manager)', () => {
    const second = new DContextManager();
    const inner = ctx('shared');
    manager.with(inner, () => expect(second.active()).toBe(inner));
  });
});

describe('bind(context, function)', () => {
  it('returns a target that is neither a function nor an emitter as it is (enabled or disabled)', () => {
    const target = { a: 1 };
    expect(manager.bind(ROOT_CONTEXT, target)).toBe(target);
    manager.disable();
    expect(manager.bind(ROOT_CONTEXT, target)).toBe(target);
  });

  it('runs the function in the given context, wherever it is called from', () => {
    const bound = ctx('bound');
    const fn = manager.bind(bound, () => manager.active());
    expect(fn()).toBe(bound);
    expect(manager.with(ctx('caller'), fn)).toBe(bound);
  });

  it('runs it in the given context when the manager is disabled', () => {
    manager.disable();
    const bound = ctx('bound');
    expect(manager.bind(bound, () => manager.active())()).toBe(bound);
  });

  it('keeps the context in a timer started by the bound function', async () => {
    const bound = ctx('bound');
    const seen = await new Promise((resolve) => {
      manager.bind(bound, () => setTimeout(() => resolve(manager.active()), 20))();
    });
    expect(seen).toBe(bound);
  });

  it("keeps the function's this, arguments and length", () => {
    const fn = manager.bind(ROOT_CONTEXT, function (this: unknown, a: number, b: number) {
      return [this, a + b];
    });
    expect(fn.length).toBe(2);
    expect(fn.call('self', 1, 2)).toEqual(['self', 3]);
  });

  it('composes with another manager binding the same function', () => {
    other = new AsyncLocalStorageContextManager().enable();
    const mine = ctx(2);
    const theirs = ctx(3);
    const fn = other.bind(
      theirs,
      manager.bind(mine, () => [manager.active(), other!.active()]),
    );
    const [seenMine, seenTheirs] = fn();
    expect(seenMine).toBe(mine);
    expect(seenTheirs).toBe(theirs);
  });
});

describe('bind(context, emitter)', () => {
  it('returns the same emitter (enabled or disabled)', () => {
    const ee = new EventEmitter();
    expect(manager.bind(ROOT_CONTEXT, ee)).toBe(ee);
    manager.disable();
    const ee2 = new EventEmitter();
    expect(manager.bind(ROOT_CONTEXT, ee2)).toBe(ee2);
  });

  it('runs listeners in the bound context, not the emitting nor the adding one; removeListener takes the original', () => {
    const bound = ctx('bound');
    const ee = manager.bind(bound, new EventEmitter());
    const seen: Context[] = [];
    const handler = () => seen.push(manager.active());
    manager.with(ctx('adder'), () => ee.on('test', handler));
    expect(ee.listeners('test')).toEqual([handler]);
    manager.with(ctx('emitter'), () => ee.emit('test'));
    expect(seen[0]).toBe(bound);
    ee.removeListener('test', handler);
    expect(ee.listenerCount('test')).toBe(0);
  });

  it('off() and removeListener() remove a once() listener by the original; once() fires once, in context', () => {
    const bound = ctx('once');
    const ee = manager.bind(bound, new EventEmitter());
    const handler = () => {};
    ee.once('a', handler);
    expect(ee.listenerCount('a')).toBe(1);
    ee.off('a', handler);
    expect(ee.listenerCount('a')).toBe(0);
    ee.prependOnceListener('b', handler);
    ee.removeListener('b', handler);
    expect(ee.listenerCount('b')).toBe(0);

    const seen: Context[] = [];
    ee.once('c', () => seen.push(manager.active()));
    ee.emit('c');
    ee.emit('c');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(bound);
  });

  it('removeAllListeners(event) and removeAllListeners() clear bound listeners', () => {
    const ee = manager.bind(ctx(1), new EventEmitter());
    const handler = () => {};
    ee.on('test', handler);
    ee.addListener('test1', handler);
    ee.prependListener('test2', handler);
    ee.removeAllListeners('test');
    expect(ee.listenerCount('test')).toBe(0);
    expect(ee.listenerCount('test1')).toBe(1);
    ee.removeAllListeners();
    expect(ee.listenerCount('test1') + ee.listenerCount('test2')).toBe(0);
  });

  it('a listener removing itself from inside its call sees the bound context', () => {
    const bound = ctx('self-removing');
    const ee = manager.bind(bound, new EventEmitter());
    let seen: Context | undefined;
    const handler = () => {
      seen = manager.active();
      ee.removeListener('test', handler);
    };
    ee.on('test', handler);
    ee.emit('test');
    expect(seen).toBe(bound);
    expect(ee.listenerCount('test')).toBe(0);
  });

  it('binds to the context given when the manager is disabled', () => {
    manager.disable();
    const bound = ctx('disabled');
    const ee = manager.bind(bound, new EventEmitter());
    let seen: Context | undefined;
    ee.on('test', () => {
      seen = manager.active();
    });
    ee.emit('test');
    expect(seen).toBe(bound);
  });

  it('keeps the context in a setImmediate started by a listener', async () => {
    const bound = ctx('immediate');
    const ee = manager.bind(bound, new EventEmitter());
    const seen = new Promise((resolve) => {
      ee.on('test', () => setImmediate(() => resolve(manager.active())));
    });
    ee.emit('test');
    expect(await seen).toBe(bound);
  });

  it('a second bind of the same emitter keeps the first context', () => {
    const first = ctx('first');
    const ee = manager.bind(first, new EventEmitter());
    manager.bind(ctx('second'), ee);
    let seen: Context | undefined;
    ee.on('test', () => {
      seen = manager.active();
    });
    ee.emit('test');
    expect(seen).toBe(first);
    expect(ee.listenerCount('test')).toBe(1);
  });

  it('composes with another manager binding the same emitter', () => {
    other = new AsyncLocalStorageContextManager().enable();
    const mine = ctx(2);
    const theirs = ctx(3);
    const ee = other.bind(theirs, manager.bind(mine, new EventEmitter()));
    let seen: Context[] = [];
    ee.on('test', () => {
      seen = [manager.active(), other!.active()];
    });
    ee.emit('test');
    expect(seen[0]).toBe(mine);
    expect(seen[1]).toBe(theirs);
  });
});

describe('one store for OpenTelemetry and dcontext', () => {
  it('a dcontext scope inside with() keeps the OpenTelemetry context, and the scope chain', async () => {
    const inner = ctx('request');
    const seen = await manager.with(inner, () =>
      scope('handler', async () => {
        set(requestId, 'r1');
        await sleep(1);
        return { otel: manager.active(), rid: get(requestId), chain: scopeChain() };
      }),
    );
    expect(seen.otel).toBe(inner);
    expect(seen).toMatchObject({ rid: 'r1', chain: ['handler'] });
  });

  it('with() inside a dcontext scope sees its values; a value set inside with() stays inside', async () => {
    await scope('request', async () => {
      set(requestId, 'outer');
      await manager.with(ctx(1), async () => {
        expect(get(requestId)).toBe('outer');
        expect(scopeChain()).toEqual(['request']);
        set(requestId, 'inner');
        await sleep(1);
        expect(get(requestId)).toBe('inner');
      });
      expect(get(requestId)).toBe('outer');
    });
  });

  it('a snapshot taken inside with() carries the OpenTelemetry context back in with withContext', async () => {
    const inner = ctx('captured');
    const captured = manager.with(inner, () => scope('job', () => snapshot()));
    expect(manager.active()).toBe(ROOT_CONTEXT);
    expect(withContext(captured, () => manager.active())).toBe(inner);
    expect(withContext(captured.with(requestId, 'x'), () => manager.active())).toBe(inner);
  });
});
