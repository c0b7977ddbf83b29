// Express: one middleware gives every request its own scope, request id and tenant; a body read
// with req.on('data'/'end') and a timer inside the handler still see the request's own values.
// Run: node --import tsx examples/express.ts
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { get, initialize, RegistryBuilder, scopeChain } from 'dcontext';
import { expressContext } from 'dcontext/http';
import express from 'express';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', { validate: (v) => typeof v === 'string' });
initialize(builder);

const app = express();
app.use(
  expressContext({
    name: 'api',
    requestId: { key: requestId },
    headers: { 'x-tenant': tenant },
    onError: (error) => console.warn(`context refused: ${error.code}`),
  }),
);
app.post('/orders', (req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  req.on('end', () => {
    // Some time later, in another tick: still this request's values.
    setTimeout(() => {
      res.json({
        order: body,
        requestId: get(requestId),
        tenant: get(tenant),
        chain: scopeChain(),
      });
    }, Math.random() * 20);
  });
});

const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as { port: number };

const orders = await Promise.all(
  ['acme', 'globex', 'initech'].map(async (name, i) => {
    const res = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'x-request-id': `req-${i}`, 'x-tenant': name },
      body: `order-${i}`,
    });
    return { echoed: res.headers.get('x-request-id'), ...((await res.json()) as object) };
  }),
);
for (const order of orders) console.log(order);
assert.deepEqual(orders, [
  { echoed: 'req-0', order: 'order-0', requestId: 'req-0', tenant: 'acme', chain: ['api'] },
  { echoed: 'req-1', order: 'order-1', requestId: 'req-1', tenant: 'globex', chain: ['api'] },
  { echoed: 'req-2', order: 'order-2', requestId: 'req-2', tenant: 'initech', chain: ['api'] },
]);
server.close();
