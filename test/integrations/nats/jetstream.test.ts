/**
 * JetStream on a real server: publishWithContext through the JetStream client, and
 * consumeWithContext / handleWithContext on a pull consumer: a fresh scope per delivery, the
 * automatic settle, the post-settle hooks (once, only after a successful settle, in the
 * delivery's context), redelivery with the original context, and drain.
 */
import { type JsMsg, jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  initialize,
  maxContextSize,
  scope,
  scopeChain,
  set,
  setMaxContextSize,
  tryGet,
} from '../../../src/index.js';
import {
  consumeWithContext,
  handleWithContext,
  publishWithContext,
  type SettleOutcome,
} from '../../../src/integrations/nats/index.js';
import { wireBytes } from '../../wire/support/wire-bytes.js';
import {
  builder,
  connectNats,
  index,
  prefix,
  requestId,
  sleep,
  streamOf,
  streamWithConsumer,
  tenant,
} from './support/setup.js';

let nc: NatsConnection;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  initialize(builder);
  nc = await connectNats();
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await nc.drain();
});

async function setup(what: string, ackWaitMs?: number) {
  const subject = prefix(what);
  const { js, consumer, cleanup } = await streamWithConsumer(nc, subject, ackWaitMs);
  cleanups.push(cleanup);
  return { subject, js, consumer };
}

/** Resolves when `count()` reaches `n` (polling: the hooks run after the handler). */
async function until(
  count: () => number | boolean | Promise<boolean>,
  n = 1,
  timeout = 20_000,
): Promise<void> {
  const end = Date.now() + timeout;
  while (Number(await count()) < n) {
    if (Date.now() > end) throw new Error(`timed out at ${String(await count())} of ${n}`);
    await sleep(10);
  }
}

describe('consumeWithContext', () => {
  it('100 concurrent requests of 10 messages each: every delivery and its afterAck see their own request, zero mismatches', async () => {
    const { subject, js, consumer } = await setup('load');
    const seen: string[] = [];
    const acked: string[] = [];
    const describeDelivery = (msg: JsMsg) => {
      const [r, j] = msg.string().split('-').map(Number) as [number, number];
      const ok =
        tryGet(requestId) === `req-${r}` &&
        tryGet(tenant) === `tenant-${r % 7}` &&
        tryGet(index) === j &&
        scopeChain().join('>') === `request-${r}>step-${j}>nats:${msg.subject}`;
      return `${msg.string()} ${ok ? 'ok' : `MISMATCH ${tryGet(requestId)} ${scopeChain().join('>')}`}`;
    };
    const running = await consumeWithContext(
      consumer,
      async (msg) => {
        await sleep(Math.random() * 5);
        seen.push(describeDelivery(msg));
        set(tenant, 'leaked'); // must reach neither the next delivery nor... this one's hook sees it
        set(tenant, `tenant-${Number(msg.string().split('-')[0]) % 7}`);
      },
      { concurrency: 20, afterAck: (msg) => void acked.push(describeDelivery(msg)) },
    );
    await Promise.all(
      Array.from({ length: 100 }, (_, r) =>
        scope(`request-${r}`, async () => {
          set(requestId, `req-${r}`);
          set(tenant, `tenant-${r % 7}`);
          for (let j = 0; j < 10; j++) {
            await sleep(Math.random() * 3);
            await scope(`step-${j}`, () => {
              set(index, j);
              return publishWithContext(js, `${subject}.${r % 5}`, `${r}-${j}`);
            });
          }
        }),
      ),
    );
    await until(() => acked.length, 1000);
    expect(await running.drain({ timeout: 5000 })).toBe(true);
    expect(seen.filter((s) => !s.endsWith(' ok'))).toEqual([]);
    expect(acked.filter((s) => !s.endsWith(' ok'))).toEqual([]);
    expect(new Set(seen).size).toBe(1000);
    expect(new Set(acked).size).toBe(1000);
  });

  it("a nak'd message is redelivered with the original context; the hooks fire once per outcome", async () => {
    const { subject, js, consumer } = await setup('redeliver');
    const events: string[] = [];
    const where = () => `${tryGet(requestId)} ${scopeChain().join('>')}`;
    const running = await consumeWithContext(
      consumer,
      async (msg) => {
        events.push(`handler ${msg.info.deliveryCount} ${where()}`);
        if (msg.info.deliveryCount === 1) throw new Error('not yet'); // automatic nak
      },
      {
        afterAck: () => void events.push(`afterAck ${where()}`),
        afterNak: () => void events.push(`afterNak ${where()}`),
        afterTerm: () => void events.push('afterTerm'),
        afterSettle: (outcome: SettleOutcome, msg) =>
          void events.push(`afterSettle ${outcome} ${msg.info.deliveryCount}`),
        onError: (error) => void events.push(`onError ${(error as Error).message}`),
      },
    );
    await scope('request', () => {
      set(requestId, 'r-nak');
      return publishWithContext(js, `${subject}.x`, 'payload');
    });
    await until(() => events.length, 7);
    expect(await running.drain()).toBe(true);
    const chain = `request>nats:${subject}.x`;
    expect(events).toEqual([
      `handler 1 r-nak ${chain}`,
      'onError not yet',
      `afterNak r-nak ${chain}`,
      'afterSettle nak 1',
      `handler 2 r-nak ${chain}`,
      `afterAck r-nak ${chain}`,
      'afterSettle ack 2',
    ]);
  });

  it('settling twice runs the hooks once; term runs afterTerm; a throwing hook is reported and the next message goes on', async () => {
    const { subject, js, consumer } = await setup('once');
    const events: string[] = [];
    const running = await consumeWithContext(
      consumer,
      async (msg) => {
        const body = msg.string();
        if (body === 'twice') {
          msg.ack();
          msg.ack();
          msg.nak();
        } else if (body === 'term') {
          msg.term(); // no reason: servers before 2.11 do not take one
        } else if (body === 'hook-throws') {
          msg.ack();
        }
        // 'auto' is left to the automatic ack
      },
      {
        afterAck: (msg) => {
          events.push(`afterAck ${msg.string()} ${tryGet(requestId)}`);
          if (msg.string() === 'hook-throws') throw new Error('hook failed');
        },
        afterNak: (msg) => void events.push(`afterNak ${msg.string()}`),
        afterTerm: (msg) => void events.push(`afterTerm ${msg.string()} ${tryGet(requestId)}`),
        afterSettle: (outcome, msg) => void events.push(`afterSettle ${outcome} ${msg.string()}`),
        onError: (error) => void events.push(`onError ${(error as Error).message}`),
      },
    );
    for (const body of ['twice', 'term', 'hook-throws', 'auto']) {
      await scope('request', () => {
        set(requestId, `r-${body}`);
        return publishWithContext(js, `${subject}.x`, body);
      });
    }
    await until(() => events.length, 9);
    expect(await running.drain()).toBe(true);
    await sleep(50);
    expect(events).toEqual([
      'afterAck twice r-twice',
      'afterSettle ack twice',
      'afterTerm term r-term',
      'afterSettle term term',
      'afterAck hook-throws r-hook-throws',
      'onError hook failed',
      'afterSettle ack hook-throws',
      'afterAck auto r-auto',
      'afterSettle ack auto',
    ]);
    // Nothing is left pending: every message was settled once, for good.
    await until(async () => (await consumer.info()).num_ack_pending === 0);
  });

  it('ackAck runs afterAck only once the server confirmed it', async () => {
    const { subject, js, consumer } = await setup('ackack');
    const events: string[] = [];
    const running = await consumeWithContext(
      consumer,
      async (msg) => {
        const confirmed = await msg.ackAck();
        events.push(`confirmed ${confirmed}`);
      },
      { afterAck: () => void events.push(`afterAck ${tryGet(requestId)}`) },
    );
    await scope('request', () => {
      set(requestId, 'r-ackack');
      return publishWithContext(js, `${subject}.x`, 'x');
    });
    await until(() => events.length, 2);
    expect(await running.drain()).toBe(true);
    expect(events.sort()).toEqual(['afterAck r-ackack', 'confirmed true']);
  });

  it('no hook runs for a message that was not settled (settle: manual)', async () => {
    const { subject, js, consumer } = await setup('unsettled', 60_000);
    const events: string[] = [];
    const running = await consumeWithContext(consumer, async () => void events.push('handled'), {
      settle: 'manual',
      afterSettle: (outcome) => void events.push(`afterSettle ${outcome}`),
    });
    await publishWithContext(js, `${subject}.x`, 'left alone');
    await until(() => events.length, 1);
    expect(await running.drain()).toBe(true);
    await sleep(50);
    expect(events).toEqual(['handled']);
    expect((await consumer.info()).num_ack_pending).toBe(1);
  });

  it('no hook runs when the settle call fails (its connection closed); the error is reported', async () => {
    const { subject, js } = await setup('settle-fails', 60_000);
    const other = await connectNats();
    const otherConsumer = await jetstream(other).consumers.get(streamOf(subject), 'worker');
    const events: string[] = [];
    await consumeWithContext(
      otherConsumer,
      async () => {
        events.push('handled');
        await other.close(); // the automatic ack goes out on this connection: it throws
      },
      {
        afterSettle: (outcome) => void events.push(`afterSettle ${outcome}`),
        onError: (error) => void events.push(`onError ${(error as Error).name}`),
      },
    );
    await publishWithContext(js, `${subject}.x`, 'x');
    await until(() => events.length, 2);
    await sleep(50);
    expect(events).toEqual(['handled', 'onError ClosedConnectionError']);
  });

  it('a settle made after the handler returned runs its hook in the delivery context, and drain waits for it', async () => {
    const { subject, js, consumer } = await setup('late');
    const events: string[] = [];
    const running = await consumeWithContext(
      consumer,
      async (msg) => {
        setTimeout(() => msg.ack(), 100); // settled later, outside the handler
      },
      {
        settle: 'manual',
        afterAck: async () => {
          await sleep(50);
          events.push(`afterAck ${tryGet(requestId)} ${scopeChain().join('>')}`);
        },
      },
    );
    await scope('request', () => {
      set(requestId, 'r-late');
      return publishWithContext(js, `${subject}.x`, 'x');
    });
    await until(() => running.inFlight, 1);
    await sleep(120); // the handler has returned; the ack has gone out; its hook is running
    expect(await running.drain({ timeout: 5000 })).toBe(true);
    expect(events).toEqual([`afterAck r-late request>nats:${subject}.x`]);
  });

  it('drain waits for the handlers in flight and their hooks, or reports a timeout', async () => {
    const { subject, js, consumer } = await setup('drain');
    const events: string[] = [];
    const running = await consumeWithContext(
      consumer,
      async (msg) => {
        await sleep(150);
        events.push(`handled ${msg.string()}`);
      },
      {
        concurrency: 3,
        afterAck: async (msg) => {
          await sleep(100);
          events.push(`hook ${msg.string()}`);
        },
      },
    );
    for (const body of ['a', 'b', 'c']) await publishWithContext(js, `${subject}.x`, body);
    await until(() => running.inFlight, 3);
    expect(await running.drain({ timeout: 5000 })).toBe(true);
    expect(events.sort()).toEqual([
      'handled a',
      'handled b',
      'handled c',
      'hook a',
      'hook b',
      'hook c',
    ]);

    const slow = await setup('drain-timeout');
    const stuck = await consumeWithContext(slow.consumer, () => sleep(1000));
    await publishWithContext(slow.js, `${slow.subject}.x`, 'slow');
    await until(() => stuck.inFlight, 1);
    expect(await stuck.drain({ timeout: 50 })).toBe(false);
    expect(await stuck.drain({ timeout: 5000 })).toBe(true);
  });
});

describe('bad contexts on JetStream messages', () => {
  const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  // JetStream takes headers up to 64 KiB: the test lowers the context limit to 8 KiB instead.
  const BAD = {
    garbage: 'not a context!',
    oversize: 'A'.repeat(20_000),
    'old version': base64url(wireBytes(['old'], [{ name: 'plan', version: 1, value: 'gold' }])),
  };

  it.each(['drop', 'reject'] as const)(
    "onInvalid '%s' does what it says; the good messages are not affected",
    async (onInvalid) => {
      const { subject, js, consumer } = await setup(`bad-${onInvalid}`);
      const limit = maxContextSize();
      setMaxContextSize(8 * 1024);
      cleanups.push(async () => setMaxContextSize(limit));
      const handled: string[] = [];
      const settled: string[] = [];
      const reported: string[] = [];
      const running = await consumeWithContext(
        consumer,
        async (msg) => {
          await sleep(Math.random() * 3);
          handled.push(`${msg.string()} ${tryGet(requestId) ?? '-'} ${scopeChain().join('>')}`);
        },
        {
          concurrency: 5,
          onInvalid,
          afterSettle: (outcome, msg) => void settled.push(`${outcome} ${msg.string()}`),
          onError: (error) => void reported.push((error as { code: string }).code),
        },
      );
      for (let i = 0; i < 10; i++) {
        await scope('request', () => {
          set(requestId, `good-${i}`);
          return publishWithContext(js, `${subject}.x`, `good-${i}`);
        });
      }
      for (const [name, value] of Object.entries(BAD)) {
        const h = headers();
        h.set('x-dcontext', value);
        await js.publish(`${subject}.x`, name, { headers: h });
      }
      await until(() => settled.length, 13);
      expect(await running.drain()).toBe(true);
      const good = handled.filter((h) => h.startsWith('good-'));
      expect(good.sort()).toEqual(
        Array.from(
          { length: 10 },
          (_, i) => `good-${i} good-${i} request>nats:${subject}.x`,
        ).sort(),
      );
      const bad = handled.filter((h) => !h.startsWith('good-'));
      if (onInvalid === 'drop') {
        expect(bad.sort()).toEqual(
          Object.keys(BAD)
            .map((name) => `${name} - nats:${subject}.x`)
            .sort(),
        );
        expect(settled.filter((s) => !s.includes('good-')).sort()).toEqual(
          Object.keys(BAD)
            .map((n) => `ack ${n}`)
            .sort(),
        );
      } else {
        expect(bad).toEqual([]);
        expect(settled.filter((s) => !s.includes('good-')).sort()).toEqual(
          Object.keys(BAD)
            .map((n) => `term ${n}`)
            .sort(),
        );
      }
      expect(reported.sort()).toEqual(['CONTEXT_TOO_LARGE', 'DECODE_FAILED', 'DECODE_FAILED']);
    },
  );
});

describe('handleWithContext on a JetStream consumer you drive yourself', () => {
  it('settles and runs the hooks for messages from consumer.next()', async () => {
    const { subject, js, consumer } = await setup('next');
    const events: string[] = [];
    const handle = handleWithContext(
      async (_msg: JsMsg) => void events.push(`handled ${tryGet(requestId)}`),
      {
        afterAck: () => void events.push(`afterAck ${tryGet(requestId)}`),
      },
    );
    await scope('request', () => {
      set(requestId, 'r-next');
      return publishWithContext(js, `${subject}.x`, 'x');
    });
    const msg = await consumer.next({ expires: 2000 });
    expect(msg).not.toBeNull();
    await handle(msg as JsMsg);
    expect(events).toEqual(['handled r-next', 'afterAck r-next']);
  });
});

describe('consumeWithContext arguments and the end of a consumer', () => {
  it('refuses arguments that mean nothing with INVALID_ARGUMENT', async () => {
    const { consumer } = await setup('args');
    const bad = [
      () => consumeWithContext({} as never, async () => {}),
      () => consumeWithContext(consumer, 'handler' as never),
      () => consumeWithContext(consumer, async () => {}, { concurrency: 0 }),
      () => consumeWithContext(consumer, async () => {}, { concurrency: 1.5 }),
      () =>
        consumeWithContext(consumer, async () => {}, { consume: { callback: () => {} } as never }),
      () => consumeWithContext(consumer, async () => {}, { afterNak: 'x' as never }),
    ];
    for (const make of bad)
      await expect(make()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('closed resolves after drain', async () => {
    const { consumer } = await setup('closed');
    const running = await consumeWithContext(consumer, async () => {});
    expect(await running.drain()).toBe(true);
    await expect(running.closed).resolves.toBeUndefined();
  });
});
