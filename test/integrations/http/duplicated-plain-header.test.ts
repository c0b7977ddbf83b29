/**
 * A mapped plain header sent twice (two header lines) is bad input, as a context header sent
 * twice is: Node joins the lines into one value (`'a, b'`) that no sender sent, so a key without
 * a `validate` would take it. `req.headersDistinct` tells two lines from one value holding a
 * comma. An empty mapped header (`x-user:`) is no value: the key is not set.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DContextError, initialize, tryGet } from '../../../src/index.js';
import { httpContext } from '../../../src/integrations/http/index.js';
import { builder, user } from './support/keys.js';

initialize(builder);

const errors: DContextError[] = [];
const server = http.createServer(
  httpContext((_req, res) => res.end(JSON.stringify({ user: tryGet(user) ?? null })), {
    headers: { 'x-user': user },
    onError: (error) => errors.push(error),
  }),
);
let port = 0;
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

/** The body of a GET sent with `lines` as its header lines, over a raw socket. */
function get(lines: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      resolve(
        JSON.parse(
          body.includes('{') ? body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1) : 'null',
        ),
      );
    });
    socket.write(['GET / HTTP/1.1', 'host: x', 'connection: close', ...lines, '', ''].join('\r\n'));
  });
}

it('one header line holding a comma is a value, taken as it is', async () => {
  expect(await get(['x-user: a, b'])).toEqual({ user: 'a, b' });
});

it('a mapped plain header sent on two lines is refused, not taken as "a, b"', async () => {
  errors.length = 0;
  expect(await get(['x-user: a', 'x-user: b'])).toEqual({ user: null });
  expect(errors).toHaveLength(1); // reported to onError, as a context header sent twice is
  expect(errors[0]).toMatchObject({ code: 'DECODE_FAILED' });
  expect(errors[0]!.message).toContain("'x-user' header was sent more than once");
});

it('two lines in other letter cases are two lines too', async () => {
  errors.length = 0;
  expect(await get(['X-User: a', 'x-USER: b, c'])).toEqual({ user: null });
  expect(errors).toHaveLength(1);
});

it('one line holding a comma next to other headers holding commas is still a value', async () => {
  errors.length = 0;
  expect(await get(['x-other: 1', 'x-user: a, b', 'x-other: 2'])).toEqual({ user: 'a, b' });
  expect(errors).toHaveLength(0);
});

it('an empty mapped header is absent: the key is not set, nothing is reported', async () => {
  errors.length = 0;
  expect(await get(['x-user:'])).toEqual({ user: null });
  expect(await get(['x-user: '])).toEqual({ user: null });
  expect(errors).toHaveLength(0);
});
