import { randomUUID } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  set,
  snapshot,
} from '../../../src/index.js';
import { AsyncContext } from '../../../src/integrations/async-context/index.js';
import { bindChannel } from '../../../src/integrations/diagnostics-channel/index.js';
import { codeOf, sleep } from '../../support/codes.js';
import { withCapturedWarnings } from '../../support/warnings.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const operation = builder.register<string>('operation', { validate: (v) => typeof v === 'string' });
beforeAll(() => initialize(builder));

interface Message {
  id: string;
}

const unbinds: (() => void)[] = [];
afterEach(() => {
  for (const unbind of unbinds.splice(0)) unbind();
});
/** A tracing channel of its own for each test (names are process-wide). */
function freshChannel() {
  return tracingChannel<unknown, Message>(`test:${randomUUID()}`);
}
function bindFor(...args: Parameters<typeof bindChannel<Message>>): void {
  unbinds.push(bindChannel<Message>(...args));
}

describe('bindChannel on a TracingChannel', () => {
  it('runs traceSync, tracePromise and traceCallback operations in a named child scope of the caller', async () => {
    const channel = freshChannel();
    bindFor(channel, (message) => ({ operation: message.id }), { name: 'db:query' });
    await scope('request', async () => {
      set(requestId, 'r1');
      const read = () => [get(requestId), get(operation), scopeChain()];
      const expected = (id: string) => ['r1', id, ['request', 'db:query']];
      expect(channel.traceSync(read, { id: 'sync' })).toEqual(expected('sync'));
      expect(
        await channel.tracePromise(
          async () => {
            await sleep(1);
            return read();
          },
          { id: 'promise' },
        ),
      ).toEqual(expected('promise'));
      const viaCallback = await new Promise((resolve) =>
        channel.traceCallback(
          (callback: (error: null, value: unknown) => void) =>
            setTimeout(() => callback(null, read()), 1),
          -1,
          { id: 'callback' },
          undefined,
          (_error: unknown, value: unknown) => resolve(value),
        ),
      );
      expect(viaCallback).toEqual(expected('callback'));
      expect(read()).toEqual(['r1', undefined, ['request']]);
    });
  });

  it('keeps writes made inside an operation out of the caller', () => {
    const channel = freshChannel();
    bindFor(channel, () => undefined, { name: 'op' });
    scope(() => {
      set(requestId, 'caller');
      channel.traceSync(() => set(requestId, 'inside'), { id: 'x' });
      expect(get(requestId)).toBe('caller');
    });
  });

  it('runs the operation in a snapshot the transform returns, dcontext or AsyncContext', () => {
    const channel = freshChannel();
    const variable = new AsyncContext.Variable<string>();
    const fromDcontext = scope('origin', () => {
      set(requestId, 'captured');
      return snapshot();
    });
    const fromProposal = variable.run('v', () => new AsyncContext.Snapshot());
    let useProposal = false;
    bindFor(channel, () => (useProposal ? fromProposal : fromDcontext), { name: 'job' });
    const read = () => [get(requestId), scopeChain(), variable.get()];
    expect(channel.traceSync(read, { id: 'a' })).toEqual([
      'captured',
      ['origin', 'job'],
      undefined,
    ]);
    useProposal = true;
    expect(channel.traceSync(read, { id: 'b' })).toEqual([undefined, ['job'], 'v']);
  });

  it('reports a transform that throws, runs the operation in the caller scope, and leaks nothing', async () => {
    const channel = freshChannel();
    const reported: [unknown, Message][] = [];
    const boom = new Error('transform failed');
    bindFor(
      channel,
      (message) => {
        if (message.id === 'bad') throw boom;
        return { operation: message.id };
      },
      { name: 'op', onError: (error, message) => reported.push([error, message]) },
    );
    await scope('caller', async () => {
      set(requestId, 'r2');
      const seen = await channel.tracePromise(
        async () => {
          await sleep(1);
          set(requestId, 'written-inside');
          return [get(requestId), get(operation), scopeChain()];
        },
        { id: 'bad' },
      );
      // The caller's context, in a child scope: what it wrote stays inside.
      expect(seen).toEqual(['written-inside', undefined, ['caller']]);
      expect(get(requestId)).toBe('r2');
      expect(reported.map(([error, message]) => [error, message.id])).toEqual([[boom, 'bad']]);
      expect(channel.traceSync(() => [get(operation), scopeChain()], { id: 'good' })).toEqual([
        'good',
        ['caller', 'op'],
      ]);
    });
    expect(channel.traceSync(() => [get(requestId), scopeChain()], { id: 'bad' })).toEqual([
      undefined,
      [],
    ]);
  });

  it('reports values dcontext refuses (unknown key, failed validate) like a throwing transform', () => {
    const channel = freshChannel();
    const codes: unknown[] = [];
    let values: Record<string, unknown> = { nope: 1 };
    bindFor(channel, () => values, {
      onError: (error) => codes.push((error as { code?: string }).code),
    });
    expect(channel.traceSync(() => scopeChain(), { id: 'x' })).toEqual([]);
    values = { operation: 42 };
    expect(channel.traceSync(() => get(operation), { id: 'x' })).toBeUndefined();
    values = ['not', 'an', 'object'] as unknown as Record<string, unknown>;
    channel.traceSync(() => {}, { id: 'x' });
    expect(codes).toEqual(['NOT_REGISTERED', 'TYPE_MISMATCH', 'INVALID_ARGUMENT']);
  });

  it('warns by default when the transform throws', async () => {
    const channel = freshChannel();
    bindFor(channel, () => {
      throw new Error('no context for you');
    });
    const { result, warnings } = await withCapturedWarnings(() =>
      channel.traceSync(() => 'ran', { id: 'x' }),
    );
    expect(result).toBe('ran');
    expect(warnings.map((warning) => warning.code)).toContain('DCONTEXT_CHANNEL_TRANSFORM');
  });

  it('isolates 1,000 concurrent traced operations with random delays', async () => {
    const channel = freshChannel();
    bindFor(channel, (message) => ({ operation: message.id }), { name: 'op' });
    const mismatches: string[] = [];
    await scope('batch', async () => {
      set(requestId, 'batch');
      await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const id = `op-${i}`;
          await sleep(Math.random() * 5);
          await channel.tracePromise(
            async () => {
              await sleep(Math.random() * 5);
              if (get(operation) !== id) mismatches.push(id);
              set(operation, id); // own scope: no other operation sees it
              await new Promise((r) => setImmediate(r));
              if (get(operation) !== id || get(requestId) !== 'batch') mismatches.push(id);
            },
            { id },
          );
          if (get(operation) !== undefined) mismatches.push(`${id} leaked`);
        }),
      );
    });
    expect(mismatches).toEqual([]);
  });

  it('stops after unbind, refuses a second binding while bound, and rejects bad arguments', () => {
    const channel = freshChannel();
    const unbind = bindChannel<Message>(channel, (message) => ({ operation: message.id }));
    expect(codeOf(() => bindChannel<Message>(channel, () => undefined))).toBe('CONFLICT');
    expect(channel.traceSync(() => get(operation), { id: 'bound' })).toBe('bound');
    unbind();
    unbind();
    expect(channel.traceSync(() => get(operation), { id: 'unbound' })).toBeUndefined();
    unbinds.push(bindChannel<Message>(channel, () => undefined));
    expect(codeOf(() => bindChannel(42 as unknown as string, () => undefined))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => bindChannel(freshChannel(), 'x' as unknown as () => undefined))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => bindChannel(freshChannel(), () => undefined, { name: '' }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('throws UNSUPPORTED_RUNTIME, naming the feature, for a channel that cannot bind stores', () => {
    const withoutStores = { start: { subscribe() {} } } as unknown as string;
    let thrown: unknown;
    try {
      bindChannel(withoutStores, () => undefined);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as { code?: string }).code).toBe('UNSUPPORTED_RUNTIME');
    expect((thrown as Error).message).toContain('Channel.bindStore');
  });

  it('binds a tracing channel by name', () => {
    const name = `test:${randomUUID()}`;
    bindFor(name, (message) => ({ operation: message.id }));
    expect(
      tracingChannel<unknown, Message>(name).traceSync(() => get(operation), { id: 'n' }),
    ).toBe('n');
  });
});
