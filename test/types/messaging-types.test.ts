/**
 * The dcontext/bullmq and dcontext/nats entry points fit BullMQ's and nats.js's own types: a
 * wrapped processor or handler is what Worker, subscribe and consume expect, and the job or
 * message keeps its type (checked by tsc; nothing here connects to a server).
 */
import type { Consumer, JetStreamClient, JsMsg, PubAck } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { FlowProducer, Job, Queue, Worker } from 'bullmq';
import { expectTypeOf, it } from 'vitest';
import {
  addBulkWithContext,
  addFlowWithContext,
  addWithContext,
  withJobContext,
} from '../../src/integrations/bullmq/index.js';
import {
  consumeWithContext,
  handleWithContext,
  publishWithContext,
  requestWithContext,
} from '../../src/integrations/nats/index.js';

interface Email {
  to: string;
}

it('BullMQ: queues, flows and workers keep their job types', () => {
  const typed = (queue: Queue<Email, string, 'welcome'>, flows: FlowProducer) => {
    expectTypeOf(addWithContext(queue, 'welcome', { to: 'a' })).resolves.toEqualTypeOf<
      Job<Email, string, 'welcome'>
    >();
    // @ts-expect-error the queue's data type reaches addWithContext
    void addWithContext(queue, 'welcome', { to: 1 });
    void addBulkWithContext(queue, [{ name: 'welcome', data: { to: 'b' } }]);
    void addFlowWithContext(flows, { name: 'p', queueName: 'q', children: [] });
  };
  const processor = withJobContext(async (job: Job<Email>) => job.data.to.length);
  expectTypeOf(processor).parameter(0).toEqualTypeOf<Job<Email>>();
  expectTypeOf(processor).returns.resolves.toBeNumber();
  // Unannotated, the job is a BullMQ Job.
  const untyped = withJobContext(async (job) => job.attemptsMade);
  expectTypeOf(untyped).parameter(0).toEqualTypeOf<Job>();
  const fitsWorker = (make: (p: typeof processor) => Worker<Email>) => make;
  void typed;
  void fitsWorker;
});

it('NATS: publish, request, handle and consume keep nats.js types', () => {
  const typed = async (nc: NatsConnection, js: JetStreamClient, consumer: Consumer) => {
    expectTypeOf(publishWithContext(nc, 's', 'x')).toEqualTypeOf<void>();
    expectTypeOf(publishWithContext(js, 's', 'x', { msgID: 'm' })).toEqualTypeOf<Promise<PubAck>>();
    expectTypeOf(await requestWithContext(nc, 's', 'x', { timeout: 1 })).toEqualTypeOf<Msg>();
    nc.subscribe('s', { callback: (_err, msg) => void handleWithContext((m) => m.respond())(msg) });
    await consumeWithContext(consumer, (msg) => msg.working());
  };
  expectTypeOf(handleWithContext((msg: JsMsg) => msg.ack()))
    .parameter(0)
    .toEqualTypeOf<JsMsg>();
  expectTypeOf(handleWithContext((msg) => msg.string()))
    .parameter(0)
    .toEqualTypeOf<Msg>();
  void typed;
});
