/**
 * Instructions per call of the HTTP ingress's pieces, in process (bench/support/ingress-loop.mjs
 * under callgrind): steadier than bench/http-instructions.ts (no sockets, no event loop turns,
 * a 30k-call warm-up), for bisecting a change to the ingress or the wire decode. Built dist/:
 *
 *   npm run build
 *   node --import tsx bench/ingress-instructions.ts [--node <node binary>] [--calls N] [variant…]
 *
 * Each variant prints the instructions per call of its three 2N-call windows (main thread; they
 * agree within ~1-2%; the N-call windows are noisier, each may hold a scavenge or not). The
 * callgrind files stay in `$TMPDIR/dcontext-ingress/`; with `--perf-basic-prof` passed through
 * `--node-flag`, /tmp/perf-<pid>.map names the JIT frames that callgrind_annotate shows as
 * addresses.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOption } from './support/callgrind.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => cliOption(args, name, fallback);
const node = option('--node', process.execPath);
const N = Number(option('--calls', '10000'));
const nodeFlag = option('--node-flag', '');
const variants = args.length > 0 ? args : ['request', 'deserialize', 'ingress-plain', 'ingress'];
const child = fileURLToPath(new URL('./support/ingress-loop.mjs', import.meta.url));
const out = join(tmpdir(), 'dcontext-ingress');
mkdirSync(out, { recursive: true });

function summary(file: string): number {
  const match = /^summary: (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!match) throw new Error(`no summary in ${file}`);
  return Number(match[1]);
}

for (const variant of variants) {
  for (const file of readdirSync(out)) if (file.startsWith(`${variant}.`)) rmSync(join(out, file));
  execFileSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(out, `${variant}.%p`)}`,
      node,
      ...(nodeFlag === '' ? [] : [nodeFlag]),
      child,
      variant,
      String(N),
    ],
    { stdio: 'ignore' },
  );
  const main = (part: number): number => {
    const file = readdirSync(out).find(
      (name) => name.startsWith(`${variant}.`) && name.endsWith(`.${part}-01`),
    );
    if (file === undefined) throw new Error(`no dump ${part} of ${variant}`);
    return summary(join(out, file));
  };
  const perCall = [2, 4, 6].map((part) => Math.round(main(part) / (2 * N)));
  console.log(
    `${variant.padEnd(14)} ${perCall.map((n) => n.toLocaleString('en').padStart(7)).join(' ')}`,
  );
}
console.log(
  `\nnode ${execFileSync(node, ['--version']).toString().trim()}, instructions per call (main thread), three windows of ${2 * N} calls`,
);
