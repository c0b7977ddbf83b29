/**
 * The load run of test/integrations/http/load.test.ts, in its own process so it can use
 * `--expose-gc`: `node --expose-gc --import tsx load.ts <framework> <requests> <concurrency>`.
 *
 * A front service (the framework under test) and a downstream node:http service. Each request
 * carries its own request id and tenant (plain headers) and a user (in the context header);
 * the handler awaits a random timer and setImmediate, reads a POST body with req.on('data'/'end'),
 * logs with pino from inside the 'end' listener and the handler, and calls the downstream service
 * with contextFetch. Every response and every log line must carry the request's own values.
 * Prints one JSON line: counts, mismatches, and the heap after GC after each round.
 */
import { Writable } from 'node:stream';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Pool } from 'undici';
import {
  get,
  initialize,
  scopeChain,
  serializeToString,
  syncCtx,
  tryGet,
} from '../../../../src/index.js';
import { contextFetch } from '../../../../src/integrations/http/index.js';
import { builder, requestId, tenant, user } from './keys.js';
import { type Framework, readBody, startServer } from './servers.js';

initialize(builder);
const [framework, requestsArg, concurrencyArg, roundsArg] = process.argv.slice(2) as [
  Framework,
  string,
  string,
  string,
];
const total = Number(requestsArg);
const concurrency = Number(concurrencyArg);
const rounds = Number(roundsArg);

let logLines = 0;
let logMismatches = 0;
// pino writes each line to this stream; every line names the request it was logged for
// (`for`, passed explicitly) next to what the mixin read from the context (`rid`).
const sink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      const entry = JSON.parse(line) as { for: string; rid?: string; tenant?: string; t: string };
      logLines++;
      if (entry.rid !== entry.for || entry.tenant !== entry.t) logMismatches++;
    }
    callback();
  },
});
// What dcontext/log's pinoMixin will do: read the context on every line, never throwing.
const logger = pino(
  {
    base: null,
    timestamp: false,
    mixin: () => ({ rid: tryGet(requestId), tenant: tryGet(tenant) }),
  },
  sink,
);

const ingress = {
  accept: [user],
  headers: { 'x-tenant': tenant },
  requestId: { key: requestId },
  onError: (error: Error) => {
    throw error;
  },
};

const downstream = await startServer(
  'node:http',
  async (req) => {
    await sleep(Math.random() * 2);
    return {
      rid: get(requestId),
      tenant: tryGet(tenant),
      user: get(user),
      chain: scopeChain(),
      header: req.headers['x-request-id'],
    };
  },
  { ...ingress, accept: 'all', name: 'downstream' },
);

const front = await startServer(
  framework,
  async (req) => {
    const rid = get(requestId);
    const t = get(tenant);
    await sleep(Math.random() * 3);
    await immediate();
    logger.info({ for: rid, t }, 'handler');
    let body = '';
    if (req.method === 'POST') {
      const [text, seenAtEnd] = await readBody(req, () => {
        logger.info({ for: rid, t }, 'end of body');
        return get(requestId);
      });
      if (seenAtEnd !== rid) throw new Error(`body 'end' listener saw ${seenAtEnd}, not ${rid}`);
      body = text;
    }
    const hop = (await (await contextFetch(`${downstream.url}/hop`)).json()) as Record<
      string,
      unknown
    >;
    return { rid: get(requestId), tenant: get(tenant), user: get(user), body, hop };
  },
  ingress,
);

const pool = new Pool(front.url, { connections: 64, pipelining: 1 });
let mismatches = 0;
let failures = 0;
const examples: string[] = [];

async function one(i: number): Promise<void> {
  const rid = `req-${i}`;
  const t = `tenant-${i % 97}`;
  const u = `user-${i}`;
  const context = syncCtx.scope(() => {
    syncCtx.set(user, u);
    return serializeToString();
  });
  const post = i % 2 === 0;
  // One request in four sends no id: the server makes one and echoes it.
  const headers: Record<string, string> = { 'x-tenant': t, 'x-dcontext': context };
  if (i % 4 !== 1) headers['x-request-id'] = rid;
  const response = await pool.request({
    path: '/work',
    method: post ? 'POST' : 'GET',
    headers,
    body: post ? `body-${i}` : null,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    failures++;
    if (examples.length < 5) examples.push(`${response.statusCode} ${text}`);
    return;
  }
  const echoed = response.headers['x-request-id'];
  const expectedId = i % 4 === 1 ? echoed : rid;
  const got = JSON.parse(text) as {
    rid: string;
    tenant: string;
    user: string;
    body: string;
    hop: { rid: string; tenant: string; user: string; chain: string[]; header: string };
  };
  const ok =
    typeof expectedId === 'string' &&
    expectedId.length > 0 &&
    echoed === expectedId &&
    got.rid === expectedId &&
    got.tenant === t &&
    got.user === u &&
    got.body === (post ? `body-${i}` : '') &&
    got.hop.rid === expectedId &&
    got.hop.tenant === t &&
    got.hop.user === u &&
    got.hop.chain.join('>') === 'http>downstream';
  if (!ok) {
    mismatches++;
    if (examples.length < 5) examples.push(`${i}: ${text} echoed=${String(echoed)}`);
  }
}

async function round(from: number, count: number): Promise<void> {
  let next = from;
  const end = from + count;
  const worker = async () => {
    while (next < end) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const heaps: number[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const settle = async () => {
  await sleep(20);
  gc();
  await immediate();
  gc();
  return process.memoryUsage().heapUsed;
};
// A short warm-up (JIT, pools, sockets), then the rounds the heap is compared across.
const warmup = Math.min(1000, Math.floor(total / 10));
await round(0, warmup);
await settle();
const perRound = Math.floor((total - warmup) / rounds);
for (let r = 0; r < rounds; r++) {
  await round(warmup + r * perRound, perRound);
  heaps.push(await settle());
}
await pool.close();
await front.close();
await downstream.close();
logger.flush();
process.stdout.write(
  `${JSON.stringify({ requests: warmup + rounds * perRound, failures, mismatches, logLines, logMismatches, heaps, examples })}\n`,
);
