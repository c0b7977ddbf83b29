/**
 * Question: what does dcontext/http cost a server per request, next to the bare server and to
 * what a user would pick instead (@fastify/request-context, cls-rtracer, OpenTelemetry's
 * AsyncLocalStorageContextManager alone)? And what does `injectHeaders` cost per call?
 *
 * Hello-world node:http and Fastify servers, each variant in a process of its own
 * (support/http-server.ts); the load (autocannon, keep-alive, 32 connections) comes from this
 * process. Every context variant puts the request id and two more values into its context per
 * request and the handler reads them: dcontext takes the id from x-request-id and the two keys
 * from the x-dcontext header (`accept` lists them); "dcontext, plain headers" takes all three
 * from plain headers, as the peers do. Variants run in rotating order over several rounds; the
 * median round counts. On a shared machine figures move by several percent between runs.
 *
 * Run: `npm run bench -- http` (`--quick` for a short run). For Node 24, put its binary first
 * on PATH.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { get, initialize, RegistryBuilder, scope, serializeToString, set } from '../src/index.js';
import { httpContext, injectHeaders } from '../src/integrations/http/index.js';
import { measure, median, quick } from './support/measure.js';
import { printTable, target } from './support/table.js';

const serverFile = fileURLToPath(new URL('./support/http-server.ts', import.meta.url));
const rounds = quick ? 1 : 3;
const seconds = quick ? 2 : 3;

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const user = builder.register<string>('user');
initialize(builder);

const contextHeader = scope('gateway', () => {
  set(tenant, 'acme');
  set(user, 'u-42');
  return serializeToString();
});
// Each variant gets the headers it reads: the id and the x-dcontext header for dcontext, the
// id and two plain headers for the others (a header nobody reads is not free either: the default
// accept 'none' would decode it to report what it drops).
const plainHeaders = { 'x-request-id': 'req-0123456789', 'x-tenant': 'acme', 'x-user': 'u-42' };
const wireHeaders = { 'x-request-id': 'req-0123456789', 'x-dcontext': contextHeader };

interface Server {
  readonly port: number;
  stop(): void;
}

function startServer(variant: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', serverFile, variant], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) resolve({ port: Number(match[1]), stop: () => child.kill() });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)));
  });
}

async function requestsPerSecond(
  port: number,
  duration: number,
  headers: Record<string, string>,
): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: 32,
    pipelining: 1,
    duration,
    headers,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return result.requests.total / duration;
}

/** Median requests/s per variant over the rounds (each round: a fresh server, warmed up). */
async function measureVariants(variants: readonly string[]): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + round) % variants.length]!;
      const server = await startServer(variant);
      const headers = variant.endsWith(':dcontext') ? wireHeaders : plainHeaders;
      try {
        await requestsPerSecond(server.port, 1, headers); // warm-up: JIT, sockets
        samples.get(variant)!.push(await requestsPerSecond(server.port, seconds, headers));
      } finally {
        server.stop();
      }
    }
  }
  return new Map([...samples].map(([variant, values]) => [variant, median(values)]));
}

const LABELS: Record<string, string> = {
  bare: 'bare server',
  dcontext: 'dcontext (id + 2 keys from x-dcontext)',
  'dcontext-plain': 'dcontext, plain headers',
  'request-context': '@fastify/request-context',
  'cls-rtracer': 'cls-rtracer (id only)',
  otel: 'OTel AsyncLocalStorageContextManager',
};

console.log(
  `## dcontext/http (${quick ? 'quick run: figures are rough' : `${rounds} rounds of ${seconds} s`})\n`,
);
console.log(
  `- node ${process.version}, ${os.availableParallelism()} CPUs: ${os.cpus()[0]?.model ?? '?'}`,
);
console.log('- load: autocannon, 32 keep-alive connections, from another process than the server');
console.log(
  `- servers load dcontext from ${process.env.BENCH_DCONTEXT === 'src' ? 'src/ through tsx' : 'the build (dist/)'}`,
);

const nodeMajor = Number(process.versions.node.split('.')[0]);
for (const [framework, peers] of [
  ['node', ['cls-rtracer', 'otel']],
  ['fastify', ['request-context', 'cls-rtracer', 'otel']],
] as const) {
  const names = ['bare', 'dcontext', 'dcontext-plain', ...peers];
  const rps = await measureVariants(names.map((name) => `${framework}:${name}`));
  const ns = (name: string) => 1e9 / rps.get(`${framework}:${name}`)!;
  printTable(
    `${framework === 'node' ? 'node:http' : 'Fastify'} hello world: ns per request (1e9 / requests per second)`,
    names.map((name) => ({
      label: LABELS[name]!,
      nsPerOp: ns(name),
      note: `${Math.round(rps.get(`${framework}:${name}`)!)} req/s`,
    })),
    { baseline: LABELS.bare!, subject: LABELS.dcontext!, ratioHeader: '× bare' },
  );
  for (const peer of peers) {
    target(
      `${framework}: time per request, dcontext ÷ ${LABELS[peer]} (same bare server: cost no higher)`,
      ns('dcontext') / ns(peer),
      '<=',
      1,
    );
  }
  if (nodeMajor >= 24) {
    target(
      `${framework}: time per request, dcontext ÷ bare server (Node 24)`,
      ns('dcontext') / ns('bare'),
      '<=',
      1.05,
    );
  }
}

// injectHeaders per call: the context header of a request context, next to serializeToString
// (its building block).
const [raw, inject] = await scope('http', async () => {
  set(requestId, 'req-0123456789');
  set(tenant, 'acme');
  set(user, 'u-42');
  const options = { requestId: { key: requestId } };
  return measure([
    {
      name: 'serializeToString()',
      batch: 100,
      fn: () => {
        for (let i = 0; i < 100; i++) serializeToString();
      },
    },
    {
      name: 'injectHeaders({}, options)',
      batch: 100,
      fn: () => {
        for (let i = 0; i < 100; i++) injectHeaders({}, options);
      },
    },
  ]);
});
printTable(
  'injectHeaders per call (3 keys, request id header)',
  [
    { label: 'serializeToString()', nsPerOp: raw!.nsPerOp, spread: raw!.spread },
    { label: 'injectHeaders({}, { requestId })', nsPerOp: inject!.nsPerOp, spread: inject!.spread },
  ],
  { baseline: 'serializeToString()', subject: 'injectHeaders({}, { requestId })' },
);

// dcontext's own work per request, without the network and the machine's noise: the node:http
// ingress around a listener that reads the three values, called with a minimal request and
// response (two EventEmitters, made per call in both rows).
const response = { headersSent: false, setHeader() {} };
const call = (listener: (req: IncomingMessage, res: ServerResponse) => void, headers: object) => {
  const req = Object.assign(new EventEmitter(), { headers });
  const res = Object.assign(new EventEmitter(), response);
  listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
};
const bareListener = (_req: IncomingMessage, _res: ServerResponse) => {};
const read = () => {
  if (get(requestId) === undefined || get(tenant) === undefined) throw new Error('context missing');
};
const wireListener = httpContext(read, { requestId: { key: requestId }, accept: [tenant, user] });
const plainListener = httpContext(read, {
  requestId: { key: requestId },
  headers: { 'x-tenant': tenant, 'x-user': user },
});
const [bareCall, wireCall, plainCall] = await measure([
  {
    name: 'bare',
    batch: 20,
    fn: () => {
      for (let i = 0; i < 20; i++) call(bareListener, plainHeaders);
    },
  },
  {
    name: 'wire',
    batch: 20,
    fn: () => {
      for (let i = 0; i < 20; i++) call(wireListener, wireHeaders);
    },
  },
  {
    name: 'plain',
    batch: 20,
    fn: () => {
      for (let i = 0; i < 20; i++) call(plainListener, plainHeaders);
    },
  },
]);
printTable(
  "The node:http ingress in-process: ns per request of dcontext's own work",
  [
    { label: 'bare listener', nsPerOp: bareCall!.nsPerOp, spread: bareCall!.spread },
    {
      label: 'httpContext, id + 2 keys from x-dcontext',
      nsPerOp: wireCall!.nsPerOp,
      spread: wireCall!.spread,
    },
    {
      label: 'httpContext, id + 2 plain headers',
      nsPerOp: plainCall!.nsPerOp,
      spread: plainCall!.spread,
    },
  ],
  { baseline: 'bare listener', subject: 'httpContext, id + 2 keys from x-dcontext' },
);
