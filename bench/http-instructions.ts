/**
 * Server instructions per request for the HTTP bench's servers (bench/support/http-server.mjs,
 * built dist/), counted by valgrind's callgrind: deterministic where CPU time on a shared machine
 * is not. On demand, not part of `bench/run.ts` (valgrind runs a server ~50x slower):
 *
 *   npm run build
 *   node --import tsx bench/http-instructions.ts [--node <node binary>] [--requests N] [variant…]
 *
 * Each server runs under callgrind; after a warm-up (so the JIT has settled), the counters are
 * zeroed, N requests are sent and the counts dumped, then 2N more and dumped again: the
 * instructions per request are (I(2N) − I(N)) / N, which leaves out whatever a window costs
 * besides its requests. The load comes from this process (undici, 8 keep-alive connections),
 * with the headers the bench sends: `x-request-id`, and `x-dcontext` for the `dcontext`
 * variants or `x-tenant`/`x-user` for the others. The callgrind files stay in
 * `$TMPDIR/dcontext-instructions/` for `callgrind_annotate`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { initialize, RegistryBuilder, serializeToString, set, syncCtx } from '../src/index.js';
import { cliOption, counts, INSTRUCTIONS_DIR } from './support/callgrind.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => cliOption(args, name, fallback);
const node = option('--node', process.execPath);
const N = Number(option('--requests', '2000'));
const WARMUP = Number(option('--warmup', '3000'));
// One connection, one request at a time: with more, how many requests one turn of the server's
// event loop takes (and so the per-request share of a turn) depends on timing.
const CONNECTIONS = Number(option('--connections', '1'));
// `--server <file>`: another server script with the same protocol (to try a variant out).
const server = option(
  '--server',
  fileURLToPath(new URL('./support/http-server.mjs', import.meta.url)),
);
const variants =
  args.length > 0
    ? args
    : [
        'fastify:bare',
        'fastify:dcontext',
        'fastify:dcontext-plain',
        'fastify:request-context',
        'fastify:cls-rtracer',
        'fastify:otel',
        'node:bare',
        'node:dcontext',
        'node:dcontext-plain',
        'node:cls-rtracer',
        'node:otel',
      ];

const out = INSTRUCTIONS_DIR;
mkdirSync(out, { recursive: true });

// The x-dcontext header the bench sends: tenant and user, encoded by dcontext itself.
const builder = new RegistryBuilder();
const tenant = builder.register<string>('tenant');
const user = builder.register<string>('user');
initialize(builder);
const contextHeader = syncCtx.scope('upstream', () => {
  set(tenant, 'acme');
  set(user, 'u-42');
  return serializeToString();
});

function headersFor(variant: string, i: number): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': `req-${i}` };
  // `<variant>@compare`: the same variant on the build in BENCH_DCONTEXT_COMPARE.
  if (variant.replace(/@compare$/, '').endsWith(':dcontext')) {
    headers['x-dcontext'] = contextHeader;
  } else {
    headers['x-tenant'] = 'acme';
    headers['x-user'] = 'u-42';
  }
  return headers;
}

async function load(pool: Pool, variant: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const response = await pool.request({
        path: '/',
        method: 'GET',
        headers: headersFor(variant, i),
      });
      if (response.statusCode !== 200) throw new Error(`${variant}: HTTP ${response.statusCode}`);
      await response.body.text();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

function started(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk;
      const match = /listening (\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function control(flag: string, pid: number): void {
  execFileSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore' });
}

interface PerRequest {
  /** The main thread (JavaScript, the event loop, most of the GC). */
  readonly main: number;
  /** Every thread: plus the JIT compiler's and the GC's helpers, which vary from run to run. */
  readonly all: number;
}

async function measure(variant: string): Promise<PerRequest> {
  const base = join(out, variant.replace(':', '-'));
  for (const file of readdirSync(out)) {
    if (file.startsWith(`${variant.replace(':', '-')}.`)) rmSync(join(out, file));
  }
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${base}.%p`,
      node,
      server,
      variant,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const port = await started(child);
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
    await load(pool, variant, WARMUP);
    const pid = child.pid!;
    control('-z', pid);
    await load(pool, variant, N);
    control('-d', pid);
    await load(pool, variant, 2 * N);
    control('-d', pid);
    await pool.close();
    const prefix = `${variant.replace(':', '-')}.${pid}`;
    const one = counts(prefix, 1);
    const two = counts(prefix, 2);
    return { main: (two.main - one.main) / N, all: (two.all - one.all) / N };
  } finally {
    child.kill('SIGTERM');
  }
}

const results = new Map<string, PerRequest>();
const fmt = (n: number): string => Math.round(n).toLocaleString('en');
for (const variant of variants) {
  const perRequest = await measure(variant);
  results.set(variant, perRequest);
  console.log(
    `${variant.padEnd(26)} main ${fmt(perRequest.main).padStart(9)}  all ${fmt(perRequest.all).padStart(9)}`,
  );
}
console.log(
  `\nnode ${execFileSync(node, ['--version']).toString().trim()}, N=${N} after ${WARMUP} warm-up requests, ${CONNECTIONS} connection(s)`,
);
console.log('instructions per request   main thread   vs bare     extra   all threads   vs bare');
for (const [variant, { main, all }] of results) {
  const bare = results.get(`${variant.split(':')[0]}:bare`);
  const ratio = (a: number, b: number | undefined) =>
    b === undefined ? '' : `${(a / b).toFixed(2)}x`;
  console.log(
    [
      variant.padEnd(26),
      fmt(main).padStart(11),
      ratio(main, bare?.main).padStart(9),
      (bare === undefined ? '' : fmt(main - bare.main)).padStart(9),
      fmt(all).padStart(13),
      ratio(all, bare?.all).padStart(9),
    ].join(' '),
  );
}
