// Fastify: one plugin gives every request its own scope; the request id is visible in the
// onRequest and onResponse hooks, the route handler and the error handler.
// Run: node --import tsx examples/fastify.ts
import assert from 'node:assert/strict';
import { get, initialize, RegistryBuilder } from 'dcontext';
import { fastifyContext } from 'dcontext/http';
import Fastify from 'fastify';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

const seen: string[] = [];
const app = Fastify();
await app.register(fastifyContext, {
  requestId: { key: requestId, generate: () => 'generated-1' },
});
app.addHook('onRequest', async (request) => {
  seen.push(`onRequest ${request.url} ${get(requestId)}`);
});
app.addHook('onResponse', async (request) => {
  seen.push(`onResponse ${request.url} ${get(requestId)}`);
});
app.setErrorHandler(async (error: Error, _request, reply) =>
  reply.code(500).send({ error: error.message, requestId: get(requestId) }),
);
app.get('/hello', async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { hello: 'world', requestId: get(requestId) };
});
app.get('/fail', async () => {
  throw new Error('out of stock');
});

await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
const base = `http://127.0.0.1:${port}`;

const hello = await (await fetch(`${base}/hello`, { headers: { 'x-request-id': 'req-a' } })).json();
const fail = await (await fetch(`${base}/fail`)).json(); // no id sent: one is generated
console.log(hello, fail);
await app.close(); // waits for onResponse hooks
for (const line of seen) console.log(line);

assert.deepEqual(hello, { hello: 'world', requestId: 'req-a' });
assert.deepEqual(fail, { error: 'out of stock', requestId: 'generated-1' });
assert.deepEqual(seen.sort(), [
  'onRequest /fail generated-1',
  'onRequest /hello req-a',
  'onResponse /fail generated-1',
  'onResponse /hello req-a',
]);
