// A request enqueues a job; a BullMQ worker runs it with the request's context. The context
// travels in the job's options (opts.dcontext), not in its data; the worker's scope chain starts
// with the request's. Needs Redis: REDIS_URL (default redis://127.0.0.1:6379); start one with
// `docker run -p 6379:6379 redis`.
// Run: node --import tsx examples/job-queue.ts
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { get, initialize, RegistryBuilder, scopeChain, set } from 'dcontext';
import { addWithContext, withJobContext } from 'dcontext/bullmq';
import { httpContext } from 'dcontext/http';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const attempt = builder.register<number>('attempt');
initialize(builder);

const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
const queueName = `example-emails-${process.pid}`;
const emails = new Queue(queueName, { connection });
const events = new QueueEvents(queueName, { connection });
// Before any job is added: a job that finishes before the events stream is read is never reported.
await events.waitUntilReady();

// The worker: each job runs in a fresh `job:<queue>` scope holding the enqueuer's context.
const worker = new Worker(
  queueName,
  withJobContext(async (job) => {
    set(attempt, job.attemptsMade + 1);
    const seen = {
      requestId: get(requestId),
      tenant: get(tenant),
      attempt: get(attempt),
      chain: scopeChain().join(' > '),
    };
    console.log('3. worker runs', job.name, job.data, seen);
    if (job.attemptsMade === 0) throw new Error('SMTP busy'); // the retry keeps the context
    return seen;
  }),
  { connection },
);

// The web service: a request scope per request; the handler enqueues a job.
const server = http.createServer(
  httpContext(
    async (_req, res) => {
      set(tenant, 'acme');
      console.log('1. request', { requestId: get(requestId), chain: scopeChain().join(' > ') });
      const job = await addWithContext(
        emails,
        'welcome',
        { to: 'ada@example.com' }, // the data stays the user's own
        { attempts: 2, backoff: { type: 'fixed', delay: 50 } },
      );
      console.log('2. job added', job.id, 'data', job.data);
      res.end(String(job.id));
    },
    { name: 'http', requestId: { key: requestId } },
  ),
);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as { port: number };

const res = await fetch(`http://127.0.0.1:${port}/signup`, {
  headers: { 'x-request-id': 'req-42' },
});
const jobId = await res.text();
const job = await emails.getJob(jobId);
assert.ok(job);
const result = await job.waitUntilFinished(events);
console.log('4. job result', result);
assert.deepEqual(result, {
  requestId: 'req-42',
  tenant: 'acme',
  attempt: 2,
  chain: `http > job:${queueName}`,
});

server.close();
await worker.close();
await events.close();
await emails.obliterate({ force: true });
await emails.close();
