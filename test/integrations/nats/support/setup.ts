/** The keys and the NATS connection every NATS test process uses. */
import { randomUUID } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { RegistryBuilder } from '../../../../src/index.js';

export const builder = new RegistryBuilder();
export const requestId = builder.register<string>('request_id');
export const tenant = builder.register<string>('tenant');
export const index = builder.register<number>('message_index');
export const secret = builder.registerLocal<string>('secret');
// At version 2; nobody registered how to upgrade version 1.
export const plan = builder.register<string>('plan', { version: 2 });

/** A connection to the test server (NATS_URL, default nats://127.0.0.1:4222). */
export function connectNats(): Promise<NatsConnection> {
  return connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
}

/** A subject prefix of its own for each test run. */
export function prefix(what: string): string {
  return `dctest.${what}.${randomUUID().slice(0, 8)}`;
}

/** The stream name `streamWithConsumer` gives the subject. */
export const streamOf = (subject: string) => subject.replace(/\./g, '_').toUpperCase();

/** A stream on `<subject>.>` and a durable pull consumer on it; deleted by the returned cleanup. */
export async function streamWithConsumer(nc: NatsConnection, subject: string, ackWaitMs = 30_000) {
  const jsm = await jetstreamManager(nc);
  const stream = streamOf(subject);
  await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  await jsm.consumers.add(stream, {
    durable_name: 'worker',
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: 5,
  });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, 'worker');
  return { js, consumer, cleanup: () => jsm.streams.delete(stream) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
