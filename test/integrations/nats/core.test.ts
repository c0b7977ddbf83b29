/**
 * Core NATS on a real server: publishWithContext / requestWithContext carry the context in a
 * header; handleWithContext runs each delivery in a fresh `nats:<subject>` scope with it, then the
 * middleware, then the handler; replies carry the responder's context back when asked.
 */
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DContextError,
  deserialize,
  get,
  initialize,
  scope,
  scopeChain,
  set,
  tryGet,
} from '../../../src/index.js';
import {
  contextHeaders,
  handleWithContext,
  messageContext,
  publishWithContext,
  requestWithContext,
} from '../../../src/integrations/nats/index.js';
import {
  builder,
  connectNats,
  index,
  prefix,
  requestId,
  secret,
  sleep,
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

/** Subscribes `handle` to `subject` (callback style) and waits until the server knows it. */
async function subscribe(subject: string, handle: (msg: Msg) => Promise<void>) {
  const sub = nc.subscribe(subject, { callback: (_err, msg) => void handle(msg) });
  await nc.flush();
  return sub;
}

describe('publishWithContext and handleWithContext', () => {
  it('100 concurrent requests of 10 messages each: every delivery sees its own request, zero mismatches', async () => {
    const subject = prefix('load');
    const seen: {
      id: string;
      requestId: string | undefined;
      tenant: string | undefined;
      index: number | undefined;
      chain: string;
    }[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const sub = await subscribe(
      `${subject}.*`,
      handleWithContext(async (msg) => {
        await sleep(Math.random() * 5);
        seen.push({
          id: msg.string(),
          requestId: tryGet(requestId),
          tenant: tryGet(tenant),
          index: tryGet(index),
          chain: scopeChain().join('>'),
        });
        set(tenant, 'leaked'); // must not reach the next delivery
        if (seen.length === 1000) done();
      }),
    );
    await Promise.all(
      Array.from({ length: 100 }, (_, r) =>
        scope(`request-${r}`, async () => {
          set(requestId, `req-${r}`);
          set(tenant, `tenant-${r % 7}`);
          for (let j = 0; j < 10; j++) {
            await sleep(Math.random() * 3);
            scope(`step-${j}`, () => {
              set(index, j);
              publishWithContext(nc, `${subject}.${r % 5}`, `${r}-${j}`);
            });
          }
        }),
      ),
    );
    await all;
    sub.unsubscribe();
    const mismatches = seen.filter((s) => {
      const [r, j] = s.id.split('-').map(Number) as [number, number];
      return (
        s.requestId !== `req-${r}` ||
        s.tenant !== `tenant-${r % 7}` ||
        s.index !== j ||
        s.chain !== `request-${r}>step-${j}>nats:${subject}.${r % 5}`
      );
    });
    expect(mismatches).toEqual([]);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1000);
  });

  it('a message without context runs in an empty scope, not in the subscriber ambient context', async () => {
    const subject = prefix('plain');
    const seen: unknown[] = [];
    const handle = await scope('startup', () => {
      set(requestId, 'ambient');
      return handleWithContext(async () => {
        seen.push({ requestId: tryGet(requestId) ?? null, chain: scopeChain() });
      });
    });
    const sub = await scope('subscriber', () => {
      set(requestId, 'ambient');
      return subscribe(subject, handle);
    });
    nc.publish(subject, 'x');
    await nc.flush();
    await sleep(50);
    sub.unsubscribe();
    expect(seen).toEqual([{ requestId: null, chain: [`nats:${subject}`] }]);
  });

  it('runs the use middleware in order in the delivery scope; it may enrich the context', async () => {
    const subject = prefix('mw');
    const order: string[] = [];
    let resolve!: (value: unknown) => void;
    const seen = new Promise((r) => {
      resolve = r;
    });
    const sub = await subscribe(
      `${subject}.*`,
      handleWithContext(
        async () => {
          order.push('handler');
          resolve({ tenant: get(tenant), requestId: get(requestId), chain: scopeChain() });
        },
        {
          use: [
            async (msg, next) => {
              order.push('tenant');
              set(tenant, msg.subject.split('.').at(-1));
              await next();
              order.push('tenant after');
            },
            (_msg, next) => {
              order.push('second');
              return next();
            },
          ],
        },
      ),
    );
    await scope('request', () => {
      set(requestId, 'r-mw');
      publishWithContext(nc, `${subject}.acme`, '');
    });
    expect(await seen).toEqual({
      tenant: 'acme',
      requestId: 'r-mw',
      chain: ['request', `nats:${subject}.acme`],
    });
    await sleep(10);
    expect(order).toEqual(['tenant', 'second', 'handler', 'tenant after']);
    sub.unsubscribe();
  });

  it('reports a handler that throws to onError and goes on with the next message', async () => {
    const subject = prefix('throws');
    const errors: string[] = [];
    const handle = handleWithContext(
      async (msg) => {
        if (msg.string() === 'bad') throw new Error(`failed ${get(requestId)}`);
      },
      { onError: (error) => errors.push((error as Error).message) },
    );
    await scope('request', async () => {
      set(requestId, 'r-throws');
      const sub = await subscribe(subject, handle);
      publishWithContext(nc, subject, 'bad');
      publishWithContext(nc, subject, 'good');
      await nc.flush();
      await sleep(50);
      sub.unsubscribe();
    });
    expect(errors).toEqual(['failed r-throws']);
  });
});

describe('contextHeaders', () => {
  it('makes MsgHdrs with the context; local-only keys stay home', () => {
    const h = scope('request', () => {
      set(requestId, 'r-1');
      set(secret, 'never-sent');
      return contextHeaders();
    });
    const carried = deserialize(h.get('x-dcontext'));
    expect(carried.get(requestId)).toBe('r-1');
    expect(carried.has(secret)).toBe(false);
    expect(carried.scopeChain).toEqual(['request']);
  });

  it('adds to given headers and leaves a context header already there', () => {
    const given = headers();
    given.set('x-other', '1');
    const same = scope('request', () => contextHeaders(given, { header: 'ctx' }));
    expect(same).toBe(given);
    expect([given.get('x-other'), given.has('ctx')]).toEqual(['1', true]);
    given.set('x-dcontext', 'upstream');
    contextHeaders(given);
    expect(given.values('x-dcontext')).toEqual(['upstream']);
  });

  it('refuses arguments that mean nothing with INVALID_ARGUMENT', async () => {
    const bad = [
      () => contextHeaders('headers' as never),
      () => contextHeaders(undefined, { header: 'bad:name' }),
      () => contextHeaders(undefined, { send: 'none' as never }),
      () => handleWithContext('handler' as never),
      () => handleWithContext(async () => {}, { use: ['x'] as never }),
      () => handleWithContext(async () => {}, { onInvalid: 'fail' as never }),
      () => handleWithContext(async () => {}, { settle: 'never' as never }),
      () => handleWithContext(async () => {}, { afterAck: 1 as never }),
      () => handleWithContext(async () => {}, { accept: 'some' as never }),
      () => publishWithContext({} as never, 'x'),
    ];
    for (const make of bad)
      expect(make).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(requestWithContext({} as never, 'x')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('requestWithContext', () => {
  it('A -> B -> C: the scope chain at C is A>nats:B>B>nats:C, and replies carry the responder context when asked', async () => {
    const base = prefix('chain');
    const subs = [
      await subscribe(
        `${base}.c`,
        handleWithContext(async (msg) => {
          await scope('C', async () => {
            set(tenant, 'set-by-c');
            msg.respond(JSON.stringify({ requestId: get(requestId), chain: scopeChain() }));
          });
        }),
      ),
      await subscribe(
        `${base}.b`,
        handleWithContext(async (msg) => {
          await scope('B', async () => {
            const fromC = await requestWithContext(
              nc,
              `${base}.c`,
              '',
              { timeout: 2000 },
              { reply: true },
            );
            const cContext = messageContext(fromC);
            msg.respond(
              JSON.stringify({
                c: fromC.json(),
                cReplyChain: cContext.scopeChain,
                cReplyTenant: cContext.get(tenant),
              }),
            );
          });
        }),
      ),
    ];
    const reply = await scope('A', async () => {
      set(requestId, 'r-abc');
      return requestWithContext(nc, `${base}.b`, '', { timeout: 2000 });
    });
    for (const sub of subs) sub.unsubscribe();
    expect(reply.json()).toEqual({
      c: { requestId: 'r-abc', chain: ['A', `nats:${base}.b`, 'B', `nats:${base}.c`, 'C'] },
      cReplyChain: ['A', `nats:${base}.b`, 'B', `nats:${base}.c`, 'C'],
      cReplyTenant: 'set-by-c',
    });
    // Without reply: true the reply carries no context.
    expect(messageContext(reply).scopeChain).toEqual([]);
  });
});

describe('bad contexts on core messages', () => {
  const raw = (subject: string, value: string | string[]) => {
    const h = headers();
    for (const v of [value].flat()) h.append('x-dcontext', v);
    nc.publish(subject, 'bad', { headers: h });
  };

  it.each(['drop', 'reject'] as const)(
    "onInvalid '%s': garbage, oversize and duplicated headers never reach other messages",
    async (onInvalid) => {
      const subject = prefix(`bad-${onInvalid}`);
      const seen: { data: string; requestId: string | null }[] = [];
      const reported: string[] = [];
      const sub = await subscribe(
        subject,
        handleWithContext(
          async (msg) => {
            await sleep(Math.random() * 3);
            seen.push({ data: msg.string(), requestId: tryGet(requestId) ?? null });
          },
          { onInvalid, onError: (error) => reported.push((error as DContextError).code) },
        ),
      );
      for (let i = 0; i < 20; i++) {
        scope('request', () => {
          set(requestId, `good-${i}`);
          publishWithContext(nc, subject, `good-${i}`);
        });
        if (i === 5) raw(subject, 'not a context!');
        if (i === 10) raw(subject, 'A'.repeat(100_000));
        if (i === 15) raw(subject, ['AQ', 'AQ']);
      }
      await nc.flush();
      await sleep(100);
      sub.unsubscribe();
      const good = seen.filter((s) => s.data !== 'bad');
      expect(good).toHaveLength(20);
      expect(good.every((s) => s.requestId === s.data)).toBe(true);
      expect(seen.filter((s) => s.data === 'bad')).toEqual(
        onInvalid === 'drop' ? Array(3).fill({ data: 'bad', requestId: null }) : [],
      );
      expect(reported.sort()).toEqual(['CONTEXT_TOO_LARGE', 'DECODE_FAILED', 'DECODE_FAILED']);
    },
  );
});

describe('accept and signatures on NATS', () => {
  it('drops the entries a handler does not accept (NOT_ACCEPTED) and refuses an unsigned context with verifyKeys', async () => {
    const subject = prefix('accept');
    const key = 'a-signing-key-of-32-bytes-length';
    const seen: unknown[] = [];
    const reported: string[] = [];
    const onError = (error: unknown) => {
      const e = error as DContextError;
      reported.push(`${e.code}${e.key === undefined ? '' : ` ${e.key}`}`);
    };
    const accepting = handleWithContext(
      async () => void seen.push(['accept', tryGet(requestId), tryGet(tenant)]),
      { accept: [requestId], onError },
    );
    const verifying = handleWithContext(async () => void seen.push(['verify', tryGet(requestId)]), {
      verifyKeys: [key],
      onError,
    });
    const subs = [
      await subscribe(`${subject}.accept`, accepting),
      await subscribe(`${subject}.verify`, verifying),
    ];
    scope('request', () => {
      set(requestId, 'r-1');
      set(tenant, 'acme');
      publishWithContext(nc, `${subject}.accept`, '');
      publishWithContext(nc, `${subject}.verify`, '');
      publishWithContext(nc, `${subject}.verify`, '', undefined, { signingKey: key });
    });
    await nc.flush();
    await sleep(100);
    for (const sub of subs) sub.unsubscribe();
    expect(seen).toEqual([
      ['accept', 'r-1', undefined],
      ['verify', undefined],
      ['verify', 'r-1'],
    ]);
    expect(reported).toEqual(['NOT_ACCEPTED tenant', 'BAD_SIGNATURE']);
  });
});
