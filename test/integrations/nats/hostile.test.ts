/**
 * A careless or hostile caller on a real NATS server: reused headers, middleware that calls
 * next() twice or forgets to return it, keys and options that are not what they say.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initialize, scope, set, tryGet } from '../../../src/index.js';
import {
  consumeWithContext,
  handleWithContext,
  messageContext,
  publishWithContext,
  requestWithContext,
} from '../../../src/integrations/nats/index.js';
import {
  builder,
  connectNats,
  prefix,
  requestId,
  sleep,
  streamWithConsumer,
  tenant,
} from './support/setup.js';

let nc: NatsConnection;
beforeAll(async () => {
  initialize(builder);
  nc = await connectNats();
});
afterAll(async () => {
  await nc.drain();
});

// A rejection nobody handles would crash a production process: each test asserts there is none.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

async function subscribe(subject: string, handle: (msg: Msg) => Promise<void>) {
  const sub = nc.subscribe(subject, { callback: (_err, msg) => void handle(msg) });
  await nc.flush();
  return sub;
}

describe('a MsgHdrs reused for many messages', () => {
  it('publishWithContext and requestWithContext send each request its own context and leave the given headers as they were', async () => {
    const subject = prefix('reuse');
    const seen: (string | undefined)[] = [];
    const handle = handleWithContext(async (msg) => {
      seen.push(`${tryGet(requestId)} ${msg.headers?.get('content-type')}`);
      msg.respond('ok');
    });
    await subscribe(subject, handle);
    const shared = headers();
    shared.set('content-type', 'application/json');
    const ids = Array.from({ length: 20 }, (_, i) => `req-${i}`);
    await Promise.all(
      ids.map((id, i) =>
        scope('request', async () => {
          set(requestId, id);
          await sleep(Math.random() * 20);
          if (i % 2 === 0) publishWithContext(nc, subject, 'x', { headers: shared });
          else
            await requestWithContext(
              nc,
              subject,
              'x',
              { timeout: 2000, headers: shared },
              { reply: true },
            );
        }),
      ),
    );
    await nc.flush();
    await sleep(100);
    expect(seen.sort()).toEqual(ids.map((id) => `${id} application/json`).sort());
    expect(shared.keys()).toEqual(['content-type']);
  });

  it('a responder that reuses one MsgHdrs for its replies sends each requester its own delivery context', async () => {
    const subject = prefix('replyreuse');
    const replyHeaders = headers();
    replyHeaders.set('content-type', 'text/plain');
    const handle = handleWithContext(async (msg) => {
      await sleep(Math.random() * 10);
      msg.respond('ok', { headers: replyHeaders });
    });
    await subscribe(subject, handle);
    const ids = Array.from({ length: 20 }, (_, i) => `req-${i}`);
    const back = await Promise.all(
      ids.map((id) =>
        scope('request', async () => {
          set(requestId, id);
          await sleep(Math.random() * 10);
          const reply = await requestWithContext(
            nc,
            subject,
            'x',
            { timeout: 2000 },
            { reply: true },
          );
          return `${messageContext(reply).get(requestId)} ${reply.headers?.get('content-type')}`;
        }),
      ),
    );
    expect(back).toEqual(ids.map((id) => `${id} text/plain`));
    expect(replyHeaders.keys()).toEqual(['content-type']);
  });

  it('the reply option bounds what a responder sends back to whoever asks for its context', async () => {
    const asked: Record<string, unknown> = {};
    for (const reply of ['all', 'none', ['request_id']] as const) {
      const subject = prefix('replybound');
      const handle = handleWithContext(
        async (msg) => {
          set(tenant, 'internal-tenant');
          msg.respond('ok');
        },
        { reply },
      );
      const sub = await subscribe(subject, handle);
      // A requester that is not requestWithContext: it just sets the header asking for it.
      const h = headers();
      h.set('x-dcontext-reply', 'x-dcontext');
      const back = await scope('request', async () => {
        set(requestId, 'r-1');
        return requestWithContext(nc, subject, 'x', { timeout: 2000, headers: h });
      });
      const context = messageContext(back);
      asked[JSON.stringify(reply)] = [context.get(requestId), context.get(tenant)];
      sub.unsubscribe();
    }
    expect(asked).toEqual({
      '"all"': ['r-1', 'internal-tenant'],
      '"none"': [undefined, undefined],
      '["request_id"]': ['r-1', undefined],
    });
    expect(() => handleWithContext(async () => {}, { reply: 'some' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('refuses opts.headers that are not MsgHdrs with INVALID_ARGUMENT', () => {
    expect(() => publishWithContext(nc, prefix('bad'), 'x', { headers: {} as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('use middleware misuse', () => {
  it('a middleware that calls next() twice: the handler runs once, the delivery fails with INVALID_ARGUMENT to onError, no unhandled rejection', async () => {
    const subject = prefix('next2');
    const errors: unknown[] = [];
    let runs = 0;
    const handle = handleWithContext(
      async () => {
        runs++;
      },
      {
        onError: (error) => errors.push(error),
        use: [
          (_msg, next) => {
            next();
            next();
          },
        ],
      },
    );
    await subscribe(subject, handle);
    nc.publish(subject, 'x');
    await nc.flush();
    await sleep(200);
    expect(runs).toBe(1);
    expect(errors).toEqual([expect.objectContaining({ code: 'INVALID_ARGUMENT' })]);
    expect(unhandled).toEqual([]);
  });

  it('a middleware that calls next() without returning it: the handler finishes before the ack, and what it throws naks the message (no unhandled rejection)', async () => {
    const subject = prefix('forgot');
    const { js, consumer, cleanup } = await streamWithConsumer(nc, subject);
    const log: string[] = [];
    const errors: unknown[] = [];
    const handle = handleWithContext<JsMsg>(
      async (msg) => {
        await sleep(30);
        log.push(`handler ${tryGet(tenant)}`);
        if (msg.string() === 'bad') throw new Error('boom');
      },
      {
        onError: (error) => errors.push(error),
        afterSettle: (outcome, msg) => {
          log.push(`${outcome} ${msg.string()}`);
        },
        use: [
          (_msg, next) => {
            set(tenant, 'acme');
            next(); // no return, no await
          },
        ],
      },
    );
    await publishWithContext(js, `${subject}.a`, 'good');
    await publishWithContext(js, `${subject}.a`, 'bad');
    const batch = await consumer.fetch({ max_messages: 2, expires: 2000 });
    for await (const msg of batch) await handle(msg);
    expect(log).toEqual(['handler acme', 'ack good', 'handler acme', 'nak bad']);
    expect(errors).toEqual([expect.objectContaining({ message: 'boom' })]);
    expect(unhandled).toEqual([]);
    await cleanup();
  });

  it('a middleware that awaits next() and catches may swallow the error: its choice', async () => {
    const subject = prefix('catch');
    const errors: unknown[] = [];
    const handle = handleWithContext(
      async () => {
        throw new Error('handled upstream');
      },
      {
        onError: (error) => errors.push(error),
        use: [
          async (_msg, next) => {
            try {
              await next();
            } catch {
              // deliberately handled
            }
          },
        ],
      },
    );
    await subscribe(subject, handle);
    nc.publish(subject, 'x');
    await nc.flush();
    await sleep(100);
    expect(errors).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});

describe('interleaved deliveries', () => {
  it('300 deliveries with random delays, a third of them throwing after setting keys: each sees only its own values', async () => {
    const subject = prefix('leak');
    const mismatches: string[] = [];
    const errors: unknown[] = [];
    let handled = 0;
    const check = (id: string, where: string) => {
      if (tryGet(requestId) !== id || tryGet(tenant) !== `t-${id}`) {
        mismatches.push(`${where} ${id}: ${tryGet(requestId)} ${tryGet(tenant)}`);
      }
    };
    const handle = handleWithContext(
      async (msg) => {
        const id = msg.string();
        check(id, 'start');
        await sleep(Math.random() * 10);
        check(id, 'after await');
        set(tenant, `leaked-by-${id}`);
        if (Number(id.slice(2)) % 3 === 0) throw new Error(`boom ${id}`);
      },
      {
        onError: (error) => errors.push(error),
        use: [
          async (msg, next) => {
            if (tryGet(tenant) !== undefined) mismatches.push(`middleware ${msg.string()}`);
            set(tenant, `t-${msg.string()}`);
            await next();
            handled++;
          },
        ],
      },
    );
    await subscribe(subject, handle);
    const total = 300;
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        scope('request', async () => {
          set(requestId, `r-${i}`);
          await sleep(Math.random() * 20);
          publishWithContext(nc, subject, `r-${i}`);
        }),
      ),
    );
    await nc.flush();
    for (let i = 0; i < 100 && handled + errors.length < total; i++) await sleep(20);
    expect(mismatches).toEqual([]);
    expect(handled + errors.length).toBe(total);
    expect(errors).toHaveLength(100);
  });
});

describe('a subscription that fails', () => {
  it('a callback given (err, {}) by a failing subscription does not run the handler with a fake message; onError gets INVALID_ARGUMENT', async () => {
    const subject = prefix('suberr');
    const errors: unknown[] = [];
    const ran: unknown[] = [];
    const handle = handleWithContext(
      async (msg) => {
        ran.push(msg);
      },
      { onError: (error) => errors.push(error) },
    );
    // The docs' pattern; nothing is published, so the subscription times out.
    nc.subscribe(subject, { timeout: 50, callback: (_err, msg) => void handle(msg) });
    await sleep(200);
    expect(ran).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ code: 'INVALID_ARGUMENT' })]);
    expect(unhandled).toEqual([]);
  });
});

describe('options that mean nothing', () => {
  it('verifyKeys that are not keys are INVALID_ARGUMENT when wrapping, not a refusal of every message', () => {
    for (const verifyKeys of [[1], [''], [null], [{}]]) {
      expect(() => handleWithContext(async () => {}, { verifyKeys: verifyKeys as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('messageContext of no message, or with options that are not an object, is INVALID_ARGUMENT', () => {
    const msg = { subject: 'x', data: new Uint8Array(), headers: headers() };
    for (const call of [
      () => messageContext(null as never),
      () => messageContext(msg, 'x-dcontext' as never),
      () => messageContext(msg, [] as never),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('drain and consume options of the wrong type are INVALID_ARGUMENT', async () => {
    const subject = prefix('drainopts');
    const { consumer, cleanup } = await streamWithConsumer(nc, subject);
    await expect(
      consumeWithContext(consumer, async () => {}, { consume: [] as never }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const running = await consumeWithContext(consumer, async () => {});
    for (const bad of ['soon', { timeout: '1s' }, { timeout: -5 }, { timeout: Number.NaN }]) {
      await expect(running.drain(bad as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(running.drain(null as never)).resolves.toBe(true);
    await cleanup();
  });
});
