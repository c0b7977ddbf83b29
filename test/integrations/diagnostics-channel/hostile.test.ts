/**
 * bindChannel under a careless or hostile caller: transforms that return garbage or promises,
 * things that are not channels, double binds and unbinds, unbinding with operations in flight.
 */
import { randomUUID } from 'node:crypto';
import { channel as plainChannel, tracingChannel } from 'node:diagnostics_channel';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { get, initialize, RegistryBuilder, scope, scopeChain, set } from '../../../src/index.js';
import {
  bindChannel,
  type ChannelScope,
} from '../../../src/integrations/diagnostics-channel/index.js';
import { codeOf, sleep } from '../../support/codes.js';

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
function freshChannel() {
  return tracingChannel<unknown, Message>(`test:${randomUUID()}`);
}

describe('transforms that return what dcontext cannot use', () => {
  it('reports a promise (an async transform) instead of silently running with no values', () => {
    const channel = freshChannel();
    const errors: unknown[] = [];
    unbinds.push(
      bindChannel<Message>(
        channel,
        (async (message: Message) => ({ operation: message.id })) as unknown as (
          m: Message,
        ) => ChannelScope,
        { name: 'op', onError: (error) => errors.push(error) },
      ),
    );
    expect(channel.traceSync(() => get(operation), { id: 'a' })).toBeUndefined();
    expect(errors.map((error) => (error as { code?: string }).code)).toEqual(['INVALID_ARGUMENT']);
  });

  it('reports numbers, strings, functions and non-plain objects (Map, Date) as INVALID_ARGUMENT', () => {
    const channel = freshChannel();
    const codes: unknown[] = [];
    let result: unknown;
    unbinds.push(
      bindChannel<Message>(channel, () => result as ChannelScope, {
        onError: (error) => codes.push((error as { code?: string }).code),
      }),
    );
    const garbage = [42, 'operation', () => ({}), new Map([['operation', 'x']]), new Date()];
    for (const value of garbage) {
      result = value;
      expect(scope('caller', () => channel.traceSync(() => scopeChain(), { id: 'x' }))).toEqual([
        'caller',
      ]);
    }
    expect(codes).toEqual(garbage.map(() => 'INVALID_ARGUMENT'));
    result = Object.assign(Object.create(null), { operation: 'null-proto' });
    expect(channel.traceSync(() => get(operation), { id: 'x' })).toBe('null-proto');
  });

  it('leaves the caller untouched when a later value of the object is refused', () => {
    const channel = freshChannel();
    unbinds.push(
      bindChannel<Message>(
        channel,
        () => ({ request_id: 'inner', operation: 7 as unknown as string }),
        {
          onError: () => {},
        },
      ),
    );
    scope(() => {
      set(requestId, 'outer');
      expect(channel.traceSync(() => get(requestId), { id: 'x' })).toBe('outer');
    });
  });
});

describe('channels, binding and unbinding', () => {
  it('refuses things that are not channels with INVALID_ARGUMENT', () => {
    for (const bad of [{}, { start: 5 }, { start: {} }, [], () => {}]) {
      expect(codeOf(() => bindChannel(bad as never, () => undefined))).toBe('INVALID_ARGUMENT');
    }
  });

  it('refuses binding the same tracing channel by object and by name', () => {
    const name = `test:${randomUUID()}`;
    unbinds.push(bindChannel<Message>(tracingChannel<unknown, Message>(name), () => undefined));
    expect(codeOf(() => bindChannel<Message>(name, () => undefined))).toBe('CONFLICT');
  });

  it('keeps a second binding when the first unbind function is called again', () => {
    const channel = freshChannel();
    const first = bindChannel<Message>(channel, () => ({ operation: 'first' }));
    first();
    const second = bindChannel<Message>(channel, (message) => ({ operation: message.id }));
    unbinds.push(second);
    first();
    expect(channel.traceSync(() => get(operation), { id: 'second' })).toBe('second');
  });

  it('binds a plain Channel for publishers that call runStores', () => {
    const channel = plainChannel(`test:${randomUUID()}`);
    unbinds.push(bindChannel<Message>(channel as never, (message) => ({ operation: message.id })));
    expect(channel.runStores({ id: 'plain' }, () => get(operation))).toBe('plain');
  });

  it('lets operations in flight keep their scope when unbound mid-way; later ones run unbound', async () => {
    const channel = freshChannel();
    const unbind = bindChannel<Message>(channel, (message) => ({ operation: message.id }), {
      name: 'op',
    });
    const inFlight = Array.from({ length: 50 }, (_, i) =>
      channel.tracePromise(
        async () => {
          await sleep(2 + Math.random() * 5);
          return get(operation) === `op-${i}` && scopeChain().join() === 'op';
        },
        { id: `op-${i}` },
      ),
    );
    await sleep(1);
    unbind();
    const after = await channel.tracePromise(async () => [get(operation), scopeChain()], {
      id: 'late',
    });
    expect(await Promise.all(inFlight)).toEqual(inFlight.map(() => true));
    expect(after).toEqual([undefined, []]);
  });
});

describe('two copies of dcontext in one process (the ESM and CommonJS builds)', () => {
  it('refuses a second binding of the same channel from the other copy with CONFLICT', async () => {
    const channel = freshChannel();
    unbinds.push(bindChannel<Message>(channel, (message) => ({ operation: message.id })));
    vi.resetModules();
    const other = await import('../../../src/integrations/diagnostics-channel/bind-channel.js');
    expect(other.bindChannel).not.toBe(bindChannel);
    let code: unknown;
    try {
      unbinds.push(other.bindChannel<Message>(channel, () => undefined));
    } catch (error) {
      code = (error as { code?: unknown }).code;
    }
    expect(code).toBe('CONFLICT');
    expect(channel.traceSync(() => get(operation), { id: 'first-binding' })).toBe('first-binding');
  });
});
