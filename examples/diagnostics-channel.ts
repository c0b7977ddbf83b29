// Context for operations published on diagnostics_channel: each traced operation runs in its
// own child scope holding values derived from its message - a custom TracingChannel, and every
// outgoing undici request, whose handler callbacks read the request's URL.
// Run: node --import tsx examples/diagnostics-channel.ts
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, initialize, RegistryBuilder, scope, scopeChain, set } from 'dcontext';
import {
  bindChannel,
  traceUndiciRequests,
  UNDICI_REQUEST_CHANNEL,
  type UndiciRequestMessage,
} from 'dcontext/diagnostics-channel';
import { Agent } from 'undici';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const queryId = builder.register<string>('query_id');
const url = builder.register<string>('url');
initialize(builder);

// 1. A library that traces its operations on a TracingChannel (a database driver, say).
interface QueryMessage {
  readonly id: string;
  readonly sql: string;
}
const queries = tracingChannel<unknown, QueryMessage>('example:db:query');
async function query(id: string, sql: string): Promise<string> {
  return queries.tracePromise(
    async () => {
      await sleep(Math.random() * 5);
      // The driver's own code (and its logs) see the operation's scope.
      return `${get(requestId)}/${get(queryId)} [${scopeChain().join(' > ')}]`;
    },
    { id, sql },
  );
}

const unbindQueries = bindChannel(queries, (message) => ({ query_id: message.id }), {
  name: 'db:query',
});
const lines = await Promise.all(
  ['req-a', 'req-b'].map((id) =>
    scope('request', async () => {
      set(requestId, id);
      return Promise.all([query('q1', 'select 1'), query('q2', 'select 2')]);
    }),
  ),
);
console.log(lines.flat());
assert.deepEqual(lines, [
  ['req-a/q1 [request > db:query]', 'req-a/q2 [request > db:query]'],
  ['req-b/q1 [request > db:query]', 'req-b/q2 [request > db:query]'],
]);
unbindQueries();

// A transform that throws is reported; the operation still runs, with the caller's context.
const reported: string[] = [];
const unbindBroken = bindChannel(
  queries,
  () => {
    throw new Error('no id');
  },
  { onError: (error) => reported.push(String(error)) },
);
const survived = await scope('request', async () => {
  set(requestId, 'req-c');
  return query('q3', 'select 3');
});
assert.equal(survived, 'req-c/undefined [request]');
assert.deepEqual(reported, ['Error: no id']);
unbindBroken();

// 2. undici 7 publishes only plain channels (undici:request:create, …) and never runs a bound
// store, so traceUndiciRequests() traces each request on a TracingChannel of its own.
const server = createServer((req, res) => res.end(`hello from ${req.url}`));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const agent = new Agent().compose(traceUndiciRequests());
const unbindUndici = bindChannel<UndiciRequestMessage>(
  UNDICI_REQUEST_CHANNEL,
  (message) => ({ url: message.url }),
  { name: 'undici:request' },
);

function fetchLogged(path: string): Promise<string[]> {
  const log: string[] = [];
  const note = (event: string) => log.push(`${event} ${get(requestId)} ${get(url)}`);
  return new Promise((resolve, reject) => {
    agent.dispatch(
      { origin, path, method: 'GET' },
      {
        onRequestStart: () => note('start'), // undici 7 takes a handler without it for a legacy one
        onResponseStart: (_controller, statusCode) => note(`status ${statusCode}`),
        onResponseData: () => note('data'),
        onResponseEnd: () => {
          note('end');
          resolve(log);
        },
        onResponseError: (_controller, error) => reject(error),
      },
    );
  });
}

const logs = await scope('request', async () => {
  set(requestId, 'req-d');
  return Promise.all([fetchLogged('/users'), fetchLogged('/orders')]);
});
console.log(logs);
const expectedLog = (path: string) =>
  ['start', 'status 200', 'data', 'end'].map((event) => `${event} req-d ${origin}${path}`);
assert.deepEqual(logs, [expectedLog('/users'), expectedLog('/orders')]);
unbindUndici();
await agent.close();
server.close();
