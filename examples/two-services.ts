// Two services: "orders" (the edge, facing callers) calls "inventory" with contextFetch. The
// context crosses in the x-dcontext header; inventory's scope chain starts with the caller's.
// Run: node --import tsx examples/two-services.ts
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { get, initialize, RegistryBuilder, scope, scopeChain, set } from 'dcontext';
import { contextFetch, httpContext } from 'dcontext/http';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const cartSize = builder.register<number>('cart_size');
initialize(builder);

async function start(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

// Inventory trusts the services in front of it: it takes every key from the context header.
const inventory = http.createServer(
  httpContext(
    (_req, res) => {
      const seen = {
        chain: scopeChain(),
        requestId: get(requestId),
        tenant: get(tenant),
        cartSize: get(cartSize),
      };
      console.log('inventory sees', seen);
      res.end(JSON.stringify(seen));
    },
    { name: 'inventory', accept: 'all' },
  ),
);
const inventoryUrl = await start(inventory);

// Orders faces callers: it takes the request id and tenant from plain headers only.
const orders = http.createServer(
  httpContext(
    (_req, res) => {
      scope('checkout', async () => {
        set(cartSize, 3);
        console.log('orders sees   ', {
          chain: scopeChain(),
          requestId: get(requestId),
          tenant: get(tenant),
        });
        const stock = await (await contextFetch(`${inventoryUrl}/stock`)).json();
        res.end(JSON.stringify(stock));
      });
    },
    { name: 'orders', requestId: { key: requestId }, headers: { 'x-tenant': tenant } },
  ),
);
const ordersUrl = await start(orders);

const res = await fetch(`${ordersUrl}/checkout`, {
  headers: { 'x-request-id': 'req-42', 'x-tenant': 'acme' },
});
const fromInventory = await res.json();
assert.deepEqual(fromInventory, {
  chain: ['orders', 'checkout', 'inventory'],
  requestId: 'req-42',
  tenant: 'acme',
  cartSize: 3,
});
assert.equal(res.headers.get('x-request-id'), 'req-42');
orders.close();
inventory.close();
