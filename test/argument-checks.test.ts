/**
 * Misuse at every public door of the core answers with a DContextError whose code says what was
 * wrong (INVALID_ARGUMENT for a wrong argument, NO_ACTIVE_SCOPE naming the store for a write with
 * no scope), never a raw TypeError from deep inside, and changes no context.
 */
import { EventEmitter } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  bind,
  bindEmitter,
  bindListener,
  DContextError,
  get,
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  set,
  snapshot,
  syncCtx,
  tryGet,
  update,
  withContext,
} from '../src/index.js';
import { codeOf } from './support/codes.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
beforeAll(() => initialize(builder));

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof DContextError) return error.message;
    throw error;
  }
  return '';
};

// Values a caller may pass by mistake where a key, a snapshot or a function belongs.
const wrong: unknown[] = [null, undefined, 42, {}, [], true];

describe('bad arguments', () => {
  it('reads and writes refuse a non-key with INVALID_ARGUMENT', () => {
    for (const key of wrong) {
      const k = key as string;
      expect(codeOf(() => get(k))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => tryGet(k))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => asyncCtx.get(k))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => syncCtx.tryGet(k))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => Snapshot.empty().get(k))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => Snapshot.empty().has(k))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => Snapshot.empty().with(k, 1))).toBe('INVALID_ARGUMENT');
      syncCtx.scope(() => {
        expect(codeOf(() => set(k, 'x'))).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => update(k, () => 'x'))).toBe('INVALID_ARGUMENT');
        expect(codeOf(() => syncCtx.delete(k))).toBe('INVALID_ARGUMENT');
      });
    }
    expect(messageOf(() => get(null as unknown as string))).toMatch(/ContextKey.*got null/);
  });

  it('re-entering a context refuses anything but a Snapshot, and a missing function', () => {
    for (const value of wrong) {
      const snap = value as Snapshot;
      expect(codeOf(() => withContext(snap, () => 1))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => asyncCtx.withContext(snap, () => 1))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => syncCtx.withContext(snap, () => 1))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => syncCtx.attach(snap))).toBe('INVALID_ARGUMENT');
    }
    const fn = null as unknown as () => void;
    expect(codeOf(() => withContext(Snapshot.empty(), fn))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => syncCtx.withContext(Snapshot.empty(), fn))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => scope(fn))).toBe('INVALID_ARGUMENT');
    expect(messageOf(() => withContext({} as Snapshot, () => 1))).toMatch(/needs a Snapshot/);
  });

  it('bind refuses a non-function when binding, not later when the callback runs', () => {
    const fn = null as unknown as () => void;
    expect(codeOf(() => bind(fn))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => asyncCtx.bind(fn))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => syncCtx.bind(fn))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => syncCtx.setImmediate(fn))).toBe('INVALID_ARGUMENT');
  });

  it('a refused call changes no context', async () => {
    await scope('outer', async () => {
      set(requestId, 'kept');
      codeOf(() => withContext(null as unknown as Snapshot, () => set(requestId, 'lost')));
      codeOf(() => set(null as unknown as string, 'x'));
      expect(get(requestId)).toBe('kept');
      expect(snapshot().scopeChain).toEqual(['outer']);
    });
  });
});

describe('writes with no scope say which store to use', () => {
  it('syncCtx.set inside an async scope points at set() / asyncCtx.set()', async () => {
    await scope('handler', async () => {
      expect(codeOf(() => syncCtx.set(requestId, 'x'))).toBe('NO_ACTIVE_SCOPE');
      const message = messageOf(() => syncCtx.set(requestId, 'x'));
      expect(message).toMatch(/through syncCtx/);
      expect(message).toMatch(/an async scope is/);
      expect(message).not.toMatch(/wrap the work in scope/);
      set(requestId, 'fine'); // the top-level verb uses the async scope
      expect(get(requestId)).toBe('fine');
    });
  });

  it('asyncCtx.set inside a sync scope points at set() / syncCtx.set()', () => {
    syncCtx.scope(() => {
      expect(messageOf(() => asyncCtx.set(requestId, 'x'))).toMatch(
        /through asyncCtx.*a sync scope is/,
      );
    });
  });

  it('a write outside every scope says the root is read-only', () => {
    expect(messageOf(() => set(requestId, 'x'))).toMatch(/outside any scope.*read-only/);
  });
});

describe('bad arguments to update and the emitter helpers', () => {
  it('update refuses a non-function with INVALID_ARGUMENT and writes nothing', () => {
    scope(() => {
      set(requestId, 'kept');
      for (const fn of wrong) {
        expect(codeOf(() => update(requestId, fn as never))).toBe('INVALID_ARGUMENT');
      }
      expect(get(requestId)).toBe('kept');
    });
  });

  it('bindEmitter refuses what is not an EventEmitter with INVALID_ARGUMENT', () => {
    for (const emitter of wrong) {
      expect(codeOf(() => bindEmitter(emitter as never))).toBe('INVALID_ARGUMENT');
    }
  });

  it('bindListener refuses a non-function when binding, not when the event fires', () => {
    for (const listener of wrong) {
      expect(codeOf(() => bindListener(listener as never))).toBe('INVALID_ARGUMENT');
    }
  });

  it('a bound emitter leaves a non-function listener to the emitter own check', () => {
    const emitter = bindEmitter(new EventEmitter());
    expect(() => emitter.on('x', 42 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => emitter.once('x', null as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

describe('arguments whose Proxy traps throw (known, not fixed on the hot doors)', () => {
  // The first access to the key (its slot) is on the read and write hot path; answering a
  // throwing trap with INVALID_ARGUMENT there needs a try/catch around get/set, not yet measured.
  // The wire doors (deserialize, serialize options and snapshots) already answer INVALID_ARGUMENT.
  const trap = (): never => {
    throw new TypeError('trap');
  };
  const hostile = new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap });

  it.fails('get, set, tryGet, update and a snapshot answer INVALID_ARGUMENT', () => {
    const k = hostile as never;
    expect(codeOf(() => get(k))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => tryGet(k))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => scope(() => set(k, 'x')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => scope(() => update(k, () => 'x')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => Snapshot.empty().get(k))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => Snapshot.empty().with(k, 'x'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => withContext(k, () => 1))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => syncCtx.attach(k))).toBe('INVALID_ARGUMENT');
  });
});
