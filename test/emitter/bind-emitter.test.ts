import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  asyncCtx,
  bindEmitter,
  bindListener,
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  set,
  syncCtx,
} from '../../src/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

/** A shared emitter (a socket, a pool's connection) that emits from whoever drives it. */
function emitFrom(id: string, emitter: EventEmitter, event: string, ...args: unknown[]): void {
  scope('driver', () => {
    set(requestId, id);
    emitter.emit(event, ...args);
  });
}

describe('bindEmitter', () => {
  it('without it, a listener runs in the context of the code that emits', () => {
    const emitter = new EventEmitter();
    const reads: unknown[] = [];
    scope('request', () => {
      set(requestId, 'r-listener');
      emitter.on('data', () => reads.push(get(requestId)));
    });
    emitFrom('r-other', emitter, 'data');
    expect(reads).toEqual(['r-other']);
  });

  it('runs each listener in the context where it was added', () => {
    const emitter = bindEmitter(new EventEmitter());
    const reads: unknown[] = [];
    for (const id of ['r-1', 'r-2']) {
      scope('request', () => {
        set(requestId, id);
        emitter.on('data', () => reads.push([get(requestId), scopeChain()]));
      });
    }
    emitFrom('r-other', emitter, 'data');
    expect(reads).toEqual([
      ['r-1', ['request']],
      ['r-2', ['request']],
    ]);
  });

  it('covers both stores', () => {
    const emitter = bindEmitter(new EventEmitter());
    const reads: unknown[] = [];
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'r-sync');
      emitter.on('data', () => reads.push(syncCtx.get(requestId), asyncCtx.get(requestId)));
    });
    asyncCtx.scope(() => {
      asyncCtx.set(requestId, 'r-async');
      emitter.on('data', () => reads.push(syncCtx.get(requestId), asyncCtx.get(requestId)));
    });
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'r-emitter');
      emitter.emit('data');
    });
    expect(reads).toEqual(['r-sync', undefined, undefined, 'r-async']);
  });

  it('binds addListener, prependListener, once and prependOnceListener too', () => {
    const emitter = bindEmitter(new EventEmitter());
    const reads: string[] = [];
    scope(() => {
      set(requestId, 'r-bound');
      emitter.addListener('e', () => reads.push(`add:${get(requestId)}`));
      emitter.prependListener('e', () => reads.push(`prepend:${get(requestId)}`));
      emitter.once('e', () => reads.push(`once:${get(requestId)}`));
      emitter.prependOnceListener('e', () => reads.push(`prependOnce:${get(requestId)}`));
    });
    emitFrom('r-other', emitter, 'e');
    emitFrom('r-other', emitter, 'e');
    expect(reads).toEqual([
      'prependOnce:r-bound',
      'prepend:r-bound',
      'add:r-bound',
      'once:r-bound',
      'prepend:r-bound',
      'add:r-bound',
    ]);
  });

  it('keeps `this`, the arguments and the return value', () => {
    const emitter = bindEmitter(new EventEmitter());
    let self: unknown;
    let args: unknown[] = [];
    emitter.on('e', function (this: unknown, ...received: unknown[]) {
      self = this;
      args = received;
    });
    emitter.emit('e', 1, 'two', { three: 3 });
    expect(self).toBe(emitter);
    expect(args).toEqual([1, 'two', { three: 3 }]);
  });

  it('lets off, removeListener and listeners work with the original listener', () => {
    const emitter = bindEmitter(new EventEmitter());
    const listener = (): void => {};
    const onceListener = (): void => {};
    emitter.on('e', listener);
    emitter.once('e', onceListener);
    expect(emitter.listeners('e')).toEqual([listener, onceListener]);
    emitter.off('e', listener);
    emitter.removeListener('e', onceListener);
    expect(emitter.listenerCount('e')).toBe(0);
  });

  it('reports the original listener to newListener and removeListener events', () => {
    const emitter = bindEmitter(new EventEmitter());
    const events: unknown[] = [];
    emitter.on('newListener', (event: string, fn: unknown) => events.push(['new', event, fn]));
    emitter.on('removeListener', (event: string, fn: unknown) =>
      events.push(['remove', event, fn]),
    );
    const listener = (): void => {};
    emitter.on('e', listener);
    emitter.off('e', listener);
    expect(events).toEqual([
      ['new', 'removeListener', expect.any(Function)],
      ['new', 'e', listener],
      ['remove', 'e', listener],
    ]);
  });

  it('gives each call a fresh scope', () => {
    const emitter = bindEmitter(new EventEmitter());
    const reads: unknown[] = [];
    scope(() => {
      set(requestId, 'r-origin');
      emitter.on('e', () => {
        reads.push(get(requestId));
        set(requestId, 'r-written-by-listener');
      });
    });
    emitter.emit('e');
    emitter.emit('e');
    expect(reads).toEqual(['r-origin', 'r-origin']);
  });

  it('lets an async listener keep its context across await', async () => {
    const emitter = bindEmitter(new EventEmitter());
    const done = new Promise<unknown>((resolve) => {
      scope(() => {
        set(requestId, 'r-async-listener');
        emitter.on('e', async () => {
          await new Promise((r) => setTimeout(r, 1));
          resolve(get(requestId));
        });
      });
    });
    emitFrom('r-other', emitter, 'e');
    await expect(done).resolves.toBe('r-async-listener');
  });

  it('leaves listeners added before the call alone, and is idempotent', () => {
    const emitter = new EventEmitter();
    const reads: unknown[] = [];
    scope(() => {
      set(requestId, 'r-early');
      emitter.on('e', () => reads.push(`early:${String(get(requestId))}`));
    });
    expect(bindEmitter(bindEmitter(emitter))).toBe(emitter);
    scope(() => {
      set(requestId, 'r-late');
      emitter.on('e', () => reads.push(`late:${String(get(requestId))}`));
    });
    emitFrom('r-other', emitter, 'e');
    expect(reads).toEqual(['early:r-other', 'late:r-late']);
  });
});

describe('bindListener', () => {
  it('binds one listener, which can still be removed by the original', () => {
    const emitter = new EventEmitter();
    const reads: unknown[] = [];
    const listener = (): void => {
      reads.push(get(requestId));
    };
    scope(() => {
      set(requestId, 'r-one');
      emitter.on('e', bindListener(listener));
    });
    emitFrom('r-other', emitter, 'e');
    emitter.off('e', listener);
    emitFrom('r-other', emitter, 'e');
    expect(reads).toEqual(['r-one']);
  });
});
