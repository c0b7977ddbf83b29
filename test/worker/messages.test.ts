import { MessageChannel, Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asyncCtx,
  type DContextError,
  get,
  initialize,
  isDContextError,
  RegistryBuilder,
  scope,
  scopeChain,
  set,
  setMaxContextSize,
  syncCtx,
} from '../../src/index.js';
import {
  errorContext,
  type MessageTarget,
  onMessageWithContext,
  postWithContext,
  spawnWithContext,
} from '../../src/worker/index.js';
import { withCapturedWarnings } from '../support/warnings.js';
import { assertBuilt, fixture } from './support/built.js';

assertBuilt();

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const mainOnly = builder.register<string>('main_only');
const tenant = builder.registerLocal<{ id: number }>('tenant_handle');
initialize(builder);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('postWithContext / onMessageWithContext in one thread', () => {
  const { port1, port2 } = new MessageChannel();
  afterAll(() => {
    port1.close();
  });

  function nextReads(count: number): Promise<unknown[]> {
    const reads: unknown[] = [];
    return new Promise((resolve) => {
      const off = onMessageWithContext(port2, (message) => {
        reads.push([message, get(requestId), syncCtx.get(requestId), scopeChain()]);
        if (reads.length === count) {
          off();
          resolve(reads);
        }
      });
    });
  }

  it('runs the handler in the context each message was posted with, in both stores', async () => {
    const reads = nextReads(2);
    for (const id of ['r-1', 'r-2']) {
      scope('sender', () => {
        set(requestId, id);
        postWithContext(port1, { hello: id });
      });
    }
    expect(await reads).toEqual([
      [{ hello: 'r-1' }, 'r-1', 'r-1', ['sender']],
      [{ hello: 'r-2' }, 'r-2', 'r-2', ['sender']],
    ]);
  });

  it('hands plain messages over unchanged, without context', async () => {
    const reads = nextReads(2);
    scope(() => {
      set(requestId, 'r-posted-plainly');
      port1.postMessage('plain');
    });
    port1.postMessage({ '@@dcontext': 2, payload: 'not ours' });
    expect(await reads).toEqual([
      ['plain', undefined, undefined, []],
      [{ '@@dcontext': 2, payload: 'not ours' }, undefined, undefined, []],
    ]);
  });

  it('never runs a plain message in the context of the scope that added the listener', async () => {
    const seen = scope(() => {
      set(requestId, 'r-who-listened');
      return new Promise<unknown[]>((resolve) => {
        const off = onMessageWithContext(port2, (message) => {
          off();
          resolve([message, get(requestId), syncCtx.get(requestId)]);
        });
      });
    });
    port1.postMessage('posted outside any scope');
    expect(await seen).toEqual(['posted outside any scope', undefined, undefined]);
  });

  it('still handles a message whose context this thread cannot read, in the root context, with a warning', async () => {
    const { warnings } = await withCapturedWarnings(async () => {
      const reads = nextReads(1);
      setMaxContextSize(1024 * 1024);
      scope(() => {
        set(requestId, 'x'.repeat(100_000));
        postWithContext(port1, 'oversized context');
      });
      setMaxContextSize(64 * 1024); // the receiving side's limit
      expect(await reads).toEqual([['oversized context', undefined, undefined, []]]);
    });
    expect(warnings).toContainEqual({
      code: 'DCONTEXT_MESSAGE_CONTEXT',
      message: expect.stringMatching(/could not be read/),
    });
  });

  it('gives each message a fresh scope: what a handler sets never reaches the next one', async () => {
    const reads: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      const off = onMessageWithContext(port2, () => {
        reads.push(get(requestId));
        set(requestId, 'r-written-by-handler');
        if (reads.length === 2) {
          off();
          resolve();
        }
      });
    });
    scope(() => {
      set(requestId, 'r-same');
      postWithContext(port1, 1);
      postWithContext(port1, 2);
    });
    await done;
    expect(reads).toEqual(['r-same', 'r-same']);
  });

  it('applies the transfer list to the message', async () => {
    const reads = nextReads(1);
    const buffer = new ArrayBuffer(8);
    scope(() => {
      set(requestId, 'r-transfer');
      postWithContext(port1, { buffer }, [buffer]);
    });
    expect(buffer.byteLength).toBe(0); // transferred, not copied
    const [[message, id]] = (await reads) as [[{ buffer: ArrayBuffer }, unknown]];
    expect(message.buffer.byteLength).toBe(8);
    expect(id).toBe('r-transfer');
  });

  it('stops calling the handler once removed', async () => {
    const seen: unknown[] = [];
    const off = onMessageWithContext(port2, (message) => seen.push(message));
    off();
    const reads = nextReads(1);
    postWithContext(port1, 'after off');
    await reads;
    expect(seen).toEqual([]);
  });

  it('throws NOT_CLONEABLE naming the key, and sends nothing, for a local value that cannot be cloned', () => {
    const posted: unknown[] = [];
    const port: MessageTarget = { postMessage: (value) => posted.push(value) };
    let thrown: unknown;
    scope(() => {
      set(tenant, { id: 1, close: () => {} } as never);
      try {
        postWithContext(port, 'never sent');
      } catch (error) {
        thrown = error;
      }
    });
    expect(isDContextError(thrown, 'NOT_CLONEABLE')).toBe(true);
    expect((thrown as { key?: string }).key).toBe('tenant_handle');
    expect(posted).toEqual([]);
  });
});

describe('a long-lived worker with onMessageWithContext', () => {
  const worker = new Worker(fixture('message-echo.mjs'));
  afterAll(() => worker.terminate());

  interface Seen {
    n: number;
    top: unknown;
    sync: unknown;
    async: unknown;
    tenant: unknown;
    chain: string[];
    active: boolean;
    afterAwait: unknown;
  }

  it('handles many interleaved messages, each in its own context, and replies in it', async () => {
    const count = 60;
    const replies: [Seen, unknown, unknown][] = [];
    const done = new Promise<void>((resolve) => {
      const off = onMessageWithContext<Seen>(worker, (seen) => {
        // The reply comes back with the context of the message it answers.
        replies.push([seen, get(requestId), get(mainOnly)]);
        if (replies.length === count) {
          off();
          resolve();
        }
      });
    });
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        scope('request', async () => {
          set(requestId, `r-${n}`);
          set(mainOnly, `main-${n}`);
          set(tenant, { id: n });
          await sleep(n % 3);
          postWithContext(worker, { kind: 'echo', n, delay: (n * 7) % 11 });
        }),
      ),
    );
    await done;
    expect(replies).toHaveLength(count);
    for (const [seen, replyId, replyMainOnly] of replies) {
      const id = `r-${seen.n}`;
      expect(seen).toEqual({
        n: seen.n,
        top: id,
        sync: id,
        async: id,
        tenant: { id: seen.n },
        chain: ['request'],
        active: true,
        afterAwait: id,
      });
      expect(replyId).toBe(id);
      // main_only is unknown to the worker: it went there and back as an opaque entry.
      expect(replyMainOnly).toBe(`main-${seen.n}`);
    }
  });

  it('runs a plain message without any context', async () => {
    const reply = new Promise<Seen>((resolve) => worker.once('message', resolve));
    scope(() => {
      set(requestId, 'r-not-sent');
      worker.postMessage({ kind: 'echo', n: -1 });
    });
    // The worker answers with postWithContext; here we read the raw envelope's payload (its second
    // element: see src/worker/envelope.ts).
    const envelope = (await reply) as unknown as unknown[];
    expect(envelope[1]).toMatchObject({ top: undefined, chain: [], active: false });
  });
});

describe('errors thrown by a message handler in a worker', () => {
  for (const kind of ['throw', 'reject'] as const) {
    it(`carry the context of the message (${kind})`, async () => {
      const worker = new Worker(fixture('message-echo.mjs'));
      const error = await new Promise<unknown>((resolve) => {
        worker.once('error', resolve);
        scope('request', () => {
          set(requestId, `r-${kind}`);
          postWithContext(worker, { kind, n: 1 });
        });
      });
      expect((error as Error).message).toMatch(/handler (failed on|rejected) 1/);
      expect(errorContext(error)).toMatchObject({
        scopeChain: ['request'],
        values: { request_id: `r-${kind}` },
      });
      expect(asyncCtx.isActive()).toBe(false);
    });
  }

  it('reach a spawnWithContext parent as a DContextError, code and key kept', async () => {
    const worker = spawnWithContext(fixture('message-echo.mjs'));
    const error = await new Promise<unknown>((resolve) => {
      worker.once('error', resolve);
      scope('request', () => {
        set(requestId, 'r-dcontext-error');
        postWithContext(worker, { kind: 'dcontext-error', n: 1 });
      });
    });
    expect(isDContextError(error, 'NOT_REGISTERED')).toBe(true);
    expect((error as DContextError).key).toBe('missing_key');
    // The context of the message whose handler failed, attached in the worker.
    expect(errorContext(error)).toMatchObject({
      scopeChain: ['request'],
      values: { request_id: 'r-dcontext-error' },
    });
  });
});
