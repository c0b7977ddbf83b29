/**
 * `npm run bench`: runs the core benches one after another, each in a process of its own, and
 * ends with every PASS/MISS line. `npm run bench -- --quick` for short runs; name benches to run
 * only those (`npm run bench -- read scope`). `BENCH_DCONTEXT=dist` measures the tsup build
 * instead of the sources (run `npm run build` first).
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dcontextBuild } from './support/impls.js';
import { quick } from './support/measure.js';

// The core runtime's questions first, then the wire format, threads, hostile input and logs; each
// file runs in a process of its own. `npm run bench -- wire worker` runs only those.
const BENCHES = [
  'read',
  'scope',
  'snapshot',
  'awaits',
  'sync',
  'wire',
  'hostile',
  'worker',
  'log',
  'async-context',
] as const;
// Run only when named (`npm run bench -- http shared`): they need servers and take minutes (http
// starts its own; bullmq, nats and shared need Redis and NATS at REDIS_URL / NATS_URL); runtimes
// measures the built package, and is meant for each runtime in turn (see its header).
const ON_DEMAND = ['http', 'bullmq', 'nats', 'shared', 'runtimes'] as const;

function runBench(name: string): Promise<{ code: number | null; verdicts: string[] }> {
  const file = fileURLToPath(new URL(`./${name}.bench.ts`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: quick ? { ...process.env, BENCH_QUICK: '1' } : process.env,
    });
    const verdicts: string[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      verdicts.push(...lines.filter((line) => /^(PASS|MISS) /.test(line)));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, verdicts }));
  });
}

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const known: readonly string[] = [...BENCHES, ...ON_DEMAND];
const unknown = requested.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : BENCHES;

console.log(`## Core runtime benchmarks${quick ? ' (quick run: figures are rough)' : ''}\n`);
console.log(
  `- node ${process.version} (V8 ${process.versions.v8}), ${process.platform}-${process.arch}`,
);
console.log(`- ${availableParallelism()} CPUs: ${cpus()[0]?.model ?? 'unknown model'}`);
console.log(
  `- dcontext measured from ${dcontextBuild === 'dist' ? 'dist/ (tsup build)' : 'src/ through tsx'}`,
);

const verdicts: string[] = [];
let crashed = 0;
for (const name of selected) {
  const { code, verdicts: lines } = await runBench(name);
  verdicts.push(...lines);
  if (code !== 0) {
    crashed++;
    console.error(`bench/${name}.bench.ts exited with ${String(code)}`);
  }
}
console.log('\n### Targets\n');
for (const line of verdicts) console.log(line);
const missed = verdicts.filter((line) => line.startsWith('MISS')).length;
console.log(
  `\n${verdicts.length - missed} met, ${missed} missed${crashed > 0 ? `, ${crashed} benches crashed` : ''}`,
);
process.exitCode = crashed > 0 ? 1 : 0;
