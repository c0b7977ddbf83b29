/**
 * The child of bench/ingress-instructions.ts, run under callgrind: `node ingress-loop.mjs
 * <variant> <N>`. Calls one piece of the HTTP ingress in a loop, in process (no sockets): after a
 * warm-up long enough for TurboFan (30k calls), it zeroes callgrind's counters itself and dumps
 * them after windows of N, 2N, N, 2N, N, 2N calls. Variants:
 * - `deserialize`: `deserialize()` of the bench's `x-dcontext` header, with the ingress's options;
 * - `ingress`: `httpContext`'s listener with that header and `x-request-id` (accept: tenant, user);
 * - `ingress-plain`: the same with `x-tenant`/`x-user` mapped by `headers` instead;
 * - `request`: making the fake request alone (to subtract).
 * Loads the build in dist/, as the HTTP bench's servers do, or the one in the directory
 * `BENCH_DCONTEXT_COMPARE` names (to compare a change with main's build).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

const variant = process.argv[2] ?? 'ingress';
const N = Number(process.argv[3] ?? 10000);
const build = process.env.BENCH_DCONTEXT_COMPARE;
const load = (entry, file) => import(build ? pathToFileURL(`${build}/${file}`).href : entry);
const { deserialize, get, initialize, RegistryBuilder, serializeToString, set, syncCtx } =
  await load('dcontext', 'index.js');
const { httpContext } = await load('dcontext/http', 'http.js');

const builder = new RegistryBuilder();
const requestId = builder.register('request_id');
const tenant = builder.register('tenant');
const user = builder.register('user');
initialize(builder);
const header = syncCtx.scope('upstream', () => {
  set(tenant, 'acme');
  set(user, 'u-42');
  return serializeToString();
});

const plain = variant === 'ingress-plain';
let served = 0;
const listener = httpContext(
  () => {
    if (get(requestId) !== undefined && get(tenant) !== undefined && get(user) !== undefined) {
      served++;
    }
  },
  plain
    ? { requestId: { key: requestId }, headers: { 'x-tenant': tenant, 'x-user': user } }
    : { requestId: { key: requestId }, accept: [tenant, user] },
);
const decodeOptions = Object.freeze({
  accept: Object.freeze(['tenant', 'user']),
  onDecodeError: 'throw',
});
const socket = new Socket();
const response = { headersSent: false, setHeader() {} };
let i = 0;

function request() {
  const req = new http.IncomingMessage(socket);
  req.headers = plain
    ? { 'x-request-id': `req-${i}`, 'x-tenant': 'acme', 'x-user': 'u-42' }
    : { 'x-request-id': `req-${i}`, 'x-dcontext': header };
  i++;
  return req;
}

const bodies = {
  deserialize: () => {
    if (deserialize(header, decodeOptions) !== undefined) served++;
  },
  ingress: () => listener(request(), response),
  'ingress-plain': () => listener(request(), response),
  request: () => {
    if (request() !== undefined) served++;
  },
};
const body = bodies[variant];
if (body === undefined) throw new Error(`unknown variant ${variant}`);
const run = (n) => {
  for (let k = 0; k < n; k++) body();
};
const control = (flag) =>
  new Promise((resolve) => execFile('callgrind_control', [flag, String(process.pid)], resolve));

run(30_000);
await control('-z');
for (let w = 0; w < 6; w++) {
  run(w % 2 === 0 ? N : 2 * N);
  await control('-d');
}
if (served === 0) throw new Error('nothing served');
