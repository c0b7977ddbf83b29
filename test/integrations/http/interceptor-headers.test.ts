/**
 * The undici interceptor adds the context headers without changing the caller's: a header given
 * twice in an iterable (undici sends each) still arrives twice, and one the caller set is kept.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initialize, scope, set } from '../../../src/index.js';
import { contextInterceptor } from '../../../src/integrations/http/index.js';
import { builder, requestId } from './support/keys.js';

initialize(builder);

const server = http.createServer((req, res) => res.end(JSON.stringify(req.headersDistinct)));
let url = '';
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
const agent = new Agent().compose(contextInterceptor({ requestId: { key: requestId } }));
afterAll(async () => {
  await agent.close();
  server.close();
});

function* repeated(): Iterable<[string, string]> {
  yield ['x-tag', 'one'];
  yield ['x-tag', 'two'];
  yield ['X-Request-Id', 'caller-id'];
}

it('a header repeated in an iterable arrives repeated, next to the context header', async () => {
  const received = await scope('request', async () => {
    set(requestId, 'r-1');
    const res = await request(url, { dispatcher: agent, headers: repeated() });
    return (await res.body.json()) as Record<string, string[]>;
  });
  expect(received['x-tag']).toEqual(['one', 'two']);
  expect(received['x-request-id']).toEqual(['caller-id']);
  expect(received['x-dcontext']).toHaveLength(1);
});
