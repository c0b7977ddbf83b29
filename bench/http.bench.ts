/**
 * Question: what does dcontext/http cost a server per request, next to the bare server and to
 * what a user would pick instead (@fastify/request-context, cls-rtracer, OpenTelemetry's
 * AsyncLocalStorageContextManager alone)? And what does `injectHeaders` cost per call?
 *
 * Hello-world node:http and Fastify servers, each variant in a process of its own
 * (support/http-server.mjs, plain Node loading the build in dist/); the load (autocannon,
 * keep-alive, 32 connections) comes from this process. Every context variant does the same work
 * per request: the request id (from x-request-id, generated when absent) and two more values go
 * into its context, the id is echoed in the response, and the handler reads the values back.
 * dcontext takes the two keys from the x-dcontext header (`accept` lists them); "dcontext, plain
 * headers" takes them from plain headers, as the peers do.
 *
 * All servers of a framework run side by side (an idle one costs nothing); each is checked (the
 * answer, the echoed id, a generated id), warmed up, then measured in short windows, round after
 * round, in an order that rotates and reverses, so a burst of load elsewhere lands on every
 * variant alike; the median window counts. Each window gives: requests/s (what the load
 * generator got through) and the server's CPU time per request, user and system apart
 * (process.cpuUsage() over the requests it answered). User CPU time per request decides the
 * targets: it is where a context library's work is, and it hardly moves with the machine's
 * load. Requests/s on a shared 2-core machine is often the client's limit, and the system time
 * (the loopback send, charged to the writer, with the wake-up of the client) moves with how busy
 * the client is rather than with the server's code.
 * Run: `npm run build && npm run bench -- http` (`--quick` for a short run). The servers run on
 * the Node that runs the bench: for Node 24, put its binary first on PATH. `BENCH_DCONTEXT=src`:
 * the servers load the sources through tsx.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { get, initialize, RegistryBuilder, scope, serializeToString, set } from '../src/index.js';
import { httpContext, injectHeaders } from '../src/integrations/http/index.js';
import { measure, median, quick } from './support/measure.js';
import { printTable, target } from './support/table.js';

const serverFile = fileURLToPath(new URL('./support/http-server.mjs', import.meta.url));
const fromSources = process.env.BENCH_DCONTEXT === 'src';
const rounds = quick ? 2 : 7;
const windowSeconds = quick ? 1 : 2;
const warmupSeconds = quick ? 1 : 3;

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
const REQUEST_ID = 'req-0123456789';
const plainHeaders = { 'x-request-id': REQUEST_ID, 'x-tenant': 'acme', 'x-user': 'u-42' };
const wireHeaders = { 'x-request-id': REQUEST_ID, 'x-dcontext': contextHeader };

interface Usage {
  /** CPU time of the server process so far, µs. */
  readonly user: number;
  readonly system: number;
  /** Requests answered so far. */
  readonly served: number;
}

interface Server {
  readonly variant: string;
  readonly port: number;
  readonly headers: Record<string, string>;
  usage(): Promise<Usage>;
  stop(): void;
}

function startServer(variant: string): Promise<Server> {
  const args = fromSources ? ['--import', 'tsx', serverFile, variant] : [serverFile, variant];
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const headers = /:dcontext(@compare)?$/.test(variant) ? wireHeaders : plainHeaders;
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) => {
      child.off('exit', onExit);
      child.on('exit', (code) => {
        if (code !== 0) console.error(`server ${variant} exited with ${code}`);
      });
      resolve({
        variant,
        port: message.port,
        headers,
        usage: () =>
          new Promise((answer) => {
            child.once('message', answer);
            child.send('usage');
          }),
        stop: () => child.disconnect(),
      });
    });
    const onExit = (code: number | null) =>
      reject(new Error(`server ${variant} exited with ${code}`));
    child.on('exit', onExit);
    child.on('error', reject);
  });
}

/** One request, checked: the answer, and the echoed request id (sent, or generated when not). */
async function check(server: Server): Promise<void> {
  for (const sendId of [true, false]) {
    const headers = { ...server.headers };
    if (!sendId) delete (headers as Record<string, string>)['x-request-id'];
    const response = await fetch(`http://127.0.0.1:${server.port}/`, { headers });
    const body = await response.text();
    const echoed = response.headers.get('x-request-id');
    const bare = server.variant.endsWith(':bare');
    const idOk = bare || (sendId ? echoed === REQUEST_ID : echoed !== null && echoed.length > 0);
    if (response.status !== 200 || body !== 'hello world' || !idOk) {
      throw new Error(
        `${server.variant}: answered ${response.status} '${body}', x-request-id ${echoed}`,
      );
    }
  }
}

interface Sample {
  readonly rps: number;
  /** Server CPU time per request, ns: user, and user + system. */
  readonly userNs: number;
  readonly cpuNs: number;
}

async function load(server: Server, duration: number): Promise<Sample> {
  const before = await server.usage();
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: 32,
    pipelining: 1,
    duration,
    headers: server.headers,
  });
  const after = await server.usage();
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${server.variant}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  const served = after.served - before.served;
  const user = after.user - before.user;
  return {
    rps: result.requests.total / duration,
    userNs: (user * 1000) / served,
    cpuNs: ((user + after.system - before.system) * 1000) / served,
  };
}

/** Median requests/s and server CPU per request of each variant (see the module comment). */
async function measureVariants(variants: readonly string[]): Promise<Map<string, Sample>> {
  const servers = await Promise.all(variants.map(startServer));
  const samples = new Map<string, Sample[]>(variants.map((v) => [v, []]));
  try {
    for (const server of servers) await check(server);
    for (const server of servers) await load(server, warmupSeconds);
    for (let round = 0; round < rounds; round++) {
      const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
      if (round % 2 === 1) order.reverse();
      for (const server of order) {
        samples.get(server.variant)!.push(await load(server, windowSeconds));
      }
    }
  } finally {
    for (const server of servers) server.stop();
  }
  if (process.env.BENCH_DEBUG === '1') {
    for (const [variant, list] of samples) {
      const line = list.map((s) => [s.rps, s.userNs, s.cpuNs].map(Math.round).join('/'));
      console.log(`${variant} (req/s / user ns / cpu ns per request): ${line.join(' ')}`);
    }
  }
  return new Map(
    [...samples].map(([variant, list]) => [
      variant,
      {
        rps: median(list.map((s) => s.rps)),
        userNs: median(list.map((s) => s.userNs)),
        cpuNs: median(list.map((s) => s.cpuNs)),
      },
    ]),
  );
}

const LABELS: Record<string, string> = {
  bare: 'bare server',
  dcontext: 'dcontext (id + 2 keys from x-dcontext)',
  'dcontext-plain': 'dcontext, plain headers',
  'dcontext@compare': 'compared build: id + 2 keys from x-dcontext',
  'dcontext-plain@compare': 'compared build: plain headers',
  'request-context': '@fastify/request-context',
  'cls-rtracer': 'cls-rtracer (id only)',
  otel: 'OTel AsyncLocalStorageContextManager',
};

console.log(
  `## dcontext/http (${quick ? 'quick run: figures are rough' : `${rounds} rounds of ${windowSeconds} s windows`})\n`,
);
console.log(
  `- node ${process.version}, ${os.availableParallelism()} CPUs: ${os.cpus()[0]?.model ?? '?'}, load average ${os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')} at the start`,
);
console.log(
  `- load: autocannon, 32 keep-alive connections, from another process than the servers (one process per variant, all on ${process.version})`,
);
console.log(
  `- servers load dcontext from ${fromSources ? 'src/ through tsx' : 'the build (dist/)'}`,
);

// BENCH_HTTP=node or fastify: one framework only. BENCH_DCONTEXT_COMPARE=<a dist/ directory>:
// the dcontext rows once more with that build (e.g. main's), in the same run.
const frameworks = (process.env.BENCH_HTTP ?? 'node,fastify').split(',');
const compareBuild = process.env.BENCH_DCONTEXT_COMPARE;
if (compareBuild !== undefined) console.log(`- "compared build": ${compareBuild}`);
const nodeMajor = Number(process.versions.node.split('.')[0]);
for (const [framework, peers] of [
  ['node', ['cls-rtracer', 'otel']],
  ['fastify', ['request-context', 'cls-rtracer', 'otel']],
] as const) {
  if (!frameworks.includes(framework)) continue;
  const names = [
    'bare',
    'dcontext',
    'dcontext-plain',
    ...(compareBuild === undefined ? [] : ['dcontext@compare', 'dcontext-plain@compare']),
    ...peers,
  ];
  const measured = await measureVariants(names.map((name) => `${framework}:${name}`));
  const of = (name: string) => measured.get(`${framework}:${name}`)!;
  const title = framework === 'node' ? 'node:http' : 'Fastify';
  printTable(
    `${title} hello world: server user CPU time per request, ns (decides the targets)`,
    names.map((name) => ({
      label: LABELS[name]!,
      nsPerOp: of(name).userNs,
      note: `${Math.round(of(name).rps)} req/s`,
    })),
    { baseline: LABELS.bare!, subject: LABELS.dcontext!, ratioHeader: '× bare' },
  );
  printTable(
    `${title} hello world: server CPU time (user + system) per request, ns`,
    names.map((name) => ({ label: LABELS[name]!, nsPerOp: of(name).cpuNs })),
    { baseline: LABELS.bare!, subject: LABELS.dcontext!, ratioHeader: '× bare' },
  );
  printTable(
    `${title} hello world: 1e9 / requests per second, ns (the client's view; on a busy machine, often the client's limit)`,
    names.map((name) => ({ label: LABELS[name]!, nsPerOp: 1e9 / of(name).rps })),
    { baseline: LABELS.bare!, subject: LABELS.dcontext!, ratioHeader: '× bare' },
  );
  for (const subject of ['dcontext', 'dcontext-plain'] as const) {
    for (const peer of peers) {
      target(
        `${framework}: server user CPU per request, ${LABELS[subject]} ÷ ${LABELS[peer]} (cost no higher)`,
        of(subject).userNs / of(peer).userNs,
        '<=',
        1,
      );
    }
    if (nodeMajor >= 24) {
      target(
        `${framework}: server user CPU per request, ${LABELS[subject]} ÷ bare server (Node 24)`,
        of(subject).userNs / of('bare').userNs,
        '<=',
        1.05,
      );
    }
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
