/**
 * Spans parent right through a worker hop: the active span crosses with the context into a
 * worker started by `spawnWithContext`, with each `postWithContext` message (both ways) and each
 * `runWithContext` pool task, and a
 * worker that does not load dcontext/otel is not disturbed by it. The workers run the built
 * package (see test/worker/support/built.ts).
 */
import type { Worker } from 'node:worker_threads';
import { trace } from '@opentelemetry/api';
import { Piscina } from 'piscina';
import { afterAll, describe, expect, it } from 'vitest';
import { get, initialize, RegistryBuilder, scope, set } from '../../../src/index.js';
import {
  onMessageWithContext,
  postWithContext,
  runWithContext,
  spawnWithContext,
} from '../../../src/worker/index.js';
import { assertBuilt } from '../../worker/support/built.js';
import { idsOf, setUpOtel, sleep } from './support.js';

assertBuilt();

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

const { tracer } = setUpOtel();
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

interface SpanIds {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}
interface Started {
  kind: 'started';
  span: SpanIds;
  rid: string | null;
}
interface Job {
  kind: 'job';
  n: number;
  span: SpanIds;
  reply: SpanIds;
  rid: string;
}

const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('spans across worker threads', () => {
  let worker: Worker;
  let spawner: { traceId: string; spanId: string };

  it("a span the worker starts at its top level parents to the spawner's active span", async () => {
    const started = await tracer.startActiveSpan('spawn', (span) =>
      scope('spawning', () => {
        set(requestId, 'r-spawn');
        spawner = idsOf(span);
        worker = spawnWithContext(fixture('span-worker.mjs'));
        workers.push(worker);
        span.end();
        return firstMessage<Started>(worker);
      }),
    );
    expect(started.rid).toBe('r-spawn');
    expect(started.span.traceId).toBe(spawner.traceId);
    expect(started.span.parentSpanId).toBe(spawner.spanId);
  });

  it("100 interleaved messages from 100 spans: each job's span parents to its sender's span, and the reply's span is active where the reply is handled", async () => {
    const replies = new Map<number, { job: Job; activeInHandler: string | undefined }>();
    const allReplied = new Promise<void>((resolve) => {
      const off = onMessageWithContext<Job>(worker, (job) => {
        // This handler runs in the reply's context: the worker's 'reply' span is the active parent.
        replies.set(job.n, { job, activeInHandler: trace.getActiveSpan()?.spanContext().spanId });
        if (replies.size === 100) {
          off();
          resolve();
        }
      });
    });
    const senders = await Promise.all(
      Array.from({ length: 100 }, (_, n) =>
        tracer.startActiveSpan(`send-${n}`, (span) =>
          scope('request', async () => {
            set(requestId, `r-${n}`);
            await sleep(Math.random() * 10);
            postWithContext(worker, { n, delay: Math.random() * 10 });
            span.end();
            return { n, ids: idsOf(span) };
          }),
        ),
      ),
    );
    await allReplied;
    let mismatches = 0;
    for (const { n, ids } of senders) {
      const reply = replies.get(n);
      if (
        reply === undefined ||
        reply.job.rid !== `r-${n}` ||
        reply.job.span.traceId !== ids.traceId ||
        reply.job.span.parentSpanId !== ids.spanId ||
        reply.job.reply.traceId !== ids.traceId ||
        reply.activeInHandler !== reply.job.reply.spanId
      ) {
        mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('a worker that does not load dcontext/otel still gets the values of a message sent from a span', async () => {
    const plain = spawnWithContext(fixture('plain-worker.mjs'));
    workers.push(plain);
    const answer = new Promise<{ n: number; rid: string }>((resolve) =>
      plain.once('message', resolve),
    );
    tracer.startActiveSpan('plain', (span) =>
      scope('request', () => {
        set(requestId, 'r-plain');
        postWithContext(plain, { n: 1 });
        span.end();
      }),
    );
    expect(await answer).toEqual({ n: 1, rid: 'r-plain' });
    expect(get(requestId)).toBeUndefined();
  });

  it("60 interleaved pool tasks (runWithContext): each task's span parents to its submitter's span", async () => {
    const pool = new Piscina({
      filename: fixture('span-pool-task.mjs').href,
      minThreads: 2,
      maxThreads: 2,
      concurrentTasksPerWorker: 4,
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, n) =>
          tracer.startActiveSpan(`submit-${n}`, (span) =>
            scope('request', async () => {
              set(requestId, `r-${n}`);
              await sleep(Math.random() * 5);
              const result = await runWithContext<SpanIds & { n: number; rid: string }>(pool, {
                n,
                delay: Math.random() * 5,
              });
              span.end();
              return { n, sender: idsOf(span), result };
            }),
          ),
        ),
      );
      const mismatches = results.filter(
        ({ n, sender, result }) =>
          result.n !== n ||
          result.rid !== `r-${n}` ||
          result.traceId !== sender.traceId ||
          result.parentSpanId !== sender.spanId,
      );
      expect(mismatches).toEqual([]);
    } finally {
      await pool.destroy();
    }
  });
});
