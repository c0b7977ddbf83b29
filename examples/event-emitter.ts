// Event emitters, where context gets lost: a listener runs in the context of whoever emits (a
// thenable's callback, in that of the connection that answered; req.on('end'), in that of the
// socket). bindEmitter (every later listener; bindListener for one) and bind put it back.
// Run: node --import tsx examples/event-emitter.ts
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bind, bindEmitter, get, initialize, RegistryBuilder, scope, set } from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

// 1. A shared emitter (a socket, a connection) with listeners from two requests.
const connection = new EventEmitter();
const bound = bindEmitter(new EventEmitter());
const reads: string[] = [];
for (const id of ['req-a', 'req-b']) {
  scope(() => {
    set(requestId, id);
    connection.on('row', () => reads.push(`plain listener of ${id} sees ${get(requestId)}`));
    bound.on('row', () => reads.push(`bound listener of ${id} sees ${get(requestId)}`));
  });
}
scope(() => {
  set(requestId, 'req-driver');
  connection.emit('row');
  bound.emit('row');
});
for (const line of reads) console.log(line);
assert.deepEqual(
  reads.map((line) => line.split(' sees ')[1]),
  ['req-driver', 'req-driver', 'req-a', 'req-b'],
);

// 2. A thenable (an ORM query builder) answered from the connection's context.
const query = {
  // biome-ignore lint/suspicious/noThenProperty: a query builder is a thenable
  then(onRow: (row: string) => void): void {
    connection.once('answer', onRow);
  },
};
const thenReads = await scope(async () => {
  set(requestId, 'req-query');
  const plain = new Promise((resolve) => query.then(() => resolve(get(requestId))));
  const fixed = new Promise((resolve) => query.then(bind(() => resolve(get(requestId)))));
  scope(() => {
    set(requestId, 'req-connection');
    setTimeout(() => connection.emit('answer', 'row'), 1);
  });
  return { plain: await plain, withBind: await fixed };
});
console.log('thenable callback:', thenReads);
assert.deepEqual(thenReads, { plain: 'req-connection', withBind: 'req-query' });

// 3. req.on('end') after reading a request body: the body's last chunk arrives from the socket,
//    whose context is not the request's.
function handler(useBindEmitter: boolean): http.RequestListener {
  return (req, res) =>
    scope('http', () => {
      set(requestId, String(req.headers['x-request-id']));
      if (useBindEmitter) bindEmitter(req);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => res.end(JSON.stringify({ body, requestId: get(requestId) ?? null })));
    });
}

async function post(useBindEmitter: boolean, id: string): Promise<unknown> {
  const server = http.createServer(handler(useBindEmitter));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', headers: { 'x-request-id': id } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () => resolve(JSON.parse(text)));
        },
      );
      req.on('error', reject);
      req.write('hello ');
      setTimeout(() => req.end('world'), 5); // the rest of the body comes after the handler returned
    });
  } finally {
    server.close();
  }
}

const withoutHelp = await post(false, 'req-http');
const withBindEmitter = await post(true, 'req-http');
console.log("req.on('end') without help:", withoutHelp);
console.log("req.on('end') after bindEmitter(req):", withBindEmitter);
assert.deepEqual(withoutHelp, { body: 'hello world', requestId: null });
assert.deepEqual(withBindEmitter, { body: 'hello world', requestId: 'req-http' });
