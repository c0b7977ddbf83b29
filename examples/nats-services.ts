// Three services over NATS: "gateway" (A) asks "orders" (B), which asks "inventory" (C), by
// request/reply; orders also publishes an event to JetStream, which "billing" consumes. Each
// hop runs in a fresh nats:<subject> scope whose chain starts with the caller's, and the reply
// from inventory carries its context back (reply: true). Needs a NATS server with JetStream:
// NATS_URL (default nats://127.0.0.1:4222); start one with `docker run -p 4222:4222 nats -js`.
// Run: node --import tsx examples/nats-services.ts
import assert from 'node:assert/strict';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { get, initialize, RegistryBuilder, scope, scopeChain, set } from 'dcontext';
import {
  consumeWithContext,
  handleWithContext,
  messageContext,
  publishWithContext,
  requestWithContext,
} from 'dcontext/nats';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const stock = builder.register<number>('stock');
initialize(builder);

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const base = `example.${process.pid}`;
const chain = () => scopeChain().join(' > ');

// C: inventory answers, and sets a value the caller will see in the reply's context.
const inventory = handleWithContext(async (m) => {
  await scope('inventory', async () => {
    set(stock, 7);
    console.log('C inventory sees', {
      requestId: get(requestId),
      tenant: get(tenant),
      chain: chain(),
    });
    m.respond(JSON.stringify({ chainAtC: scopeChain() }));
  });
});
nc.subscribe(`${base}.inventory.check`, { callback: (_err, msg) => void inventory(msg) });

// JetStream: orders publishes an event; billing consumes it after the request is long done.
const jsm = await jetstreamManager(nc);
const stream = `EXAMPLE_${process.pid}`;
await jsm.streams.add({ name: stream, subjects: [`${base}.events.>`] });
await jsm.consumers.add(stream, { durable_name: 'billing', ack_policy: AckPolicy.Explicit });
const js = jetstream(nc);
let billed!: (line: string) => void;
const billedLine = new Promise<string>((resolve) => {
  billed = resolve;
});
const billing = await consumeWithContext(
  await js.consumers.get(stream, 'billing'),
  async (msg) => {
    console.log('billing handles', msg.subject, { requestId: get(requestId), chain: chain() });
  },
  // After the ack went out, still in the message's context.
  { afterAck: () => billed(`billed ${get(requestId)} for ${get(tenant)}`) },
);

// B: orders takes the tenant from the subject (middleware), asks inventory, publishes an event.
const orders = handleWithContext(
  async (m) => {
    await scope('orders', async () => {
      console.log('B orders sees', {
        requestId: get(requestId),
        tenant: get(tenant),
        chain: chain(),
      });
      const reply = await requestWithContext(
        nc,
        `${base}.inventory.check`,
        '',
        { timeout: 2000 },
        { reply: true },
      );
      const fromInventory = messageContext(reply);
      console.log('B got inventory context back', {
        stock: fromInventory.get(stock),
        chain: fromInventory.scopeChain,
      });
      await publishWithContext(js, `${base}.events.order-placed`, JSON.stringify({ sku: 'book' }));
      m.respond(reply.data);
    });
  },
  {
    use: [
      (m, next) => {
        set(tenant, m.subject.split('.').at(-1));
        return next();
      },
    ],
  },
);
nc.subscribe(`${base}.orders.*`, { callback: (_err, msg) => void orders(msg) });
await nc.flush();

// A: the gateway, in a request scope.
const answer = await scope('gateway', async () => {
  set(requestId, 'req-9');
  console.log('A gateway', { requestId: get(requestId), chain: chain() });
  return requestWithContext(nc, `${base}.orders.acme`, '', { timeout: 2000 });
});
const { chainAtC } = answer.json<{ chainAtC: string[] }>();
console.log('A sees the chain at C:', chainAtC.join(' > '));
assert.deepEqual(chainAtC, [
  'gateway',
  `nats:${base}.orders.acme`,
  'orders',
  `nats:${base}.inventory.check`,
  'inventory',
]);
const line = await billedLine;
console.log(line);
assert.equal(line, 'billed req-9 for acme');

assert.equal(await billing.drain({ timeout: 5000 }), true);
await jsm.streams.delete(stream);
await nc.drain();
