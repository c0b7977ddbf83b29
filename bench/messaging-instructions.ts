/**
 * Instructions per BullMQ job and per NATS message in the client process, counted by valgrind's
 * callgrind (see support/callgrind.ts): deterministic where CPU time on a shared machine is not.
 * Same variants and same code as `bench/bullmq.bench.ts` and `bench/nats.bench.ts` (their child
 * processes run here under callgrind); Redis and the NATS server run outside valgrind and are
 * not counted. On demand, not part of `bench/run.ts` (valgrind runs a process ~50x slower; a
 * variant takes 1–4 minutes):
 *
 *   npm run build
 *   node --import tsx bench/messaging-instructions.ts [--node <node binary>] [--jobs N]
 *     [--messages N] [variant…]
 *
 * Variants: `bullmq:plain`, `bullmq:by-hand`, `bullmq:dcontext`, `nats-rr:<v>` (request/reply,
 * per round trip) and `nats-ph:<v>` (pipelined publish + handle, per message) with `<v>` one of
 * `plain`, `same-header`, `by-hand`, `dcontext`. Default: all of them.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RoundTripJob } from './bullmq.bench.js';
import type { NatsJob } from './nats.bench.js';
import { cliOption, instructionsPerUnit, type PerUnit } from './support/callgrind.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => cliOption(args, name, fallback);
const node = option('--node', process.execPath);
// Chunks: BullMQ 60 jobs each, NATS request/reply 50 requests, publish + handle 200 messages.
const bullmqChunks = Number(option('--chunks-bullmq', '10'));
const bullmqWarm = Number(option('--warm-bullmq', '60'));
const natsChunks = Number(option('--chunks-nats', '20'));
const natsWarm = Number(option('--warm-nats', '80'));
const BULLMQ = ['plain', 'by hand', 'dcontext'] as const;
const NATS = ['plain', 'same header', 'by hand', 'dcontext'] as const;
const slug = (v: string) => v.replace(' ', '-');
const all = [
  ...BULLMQ.map((v) => `bullmq:${slug(v)}`),
  ...NATS.map((v) => `nats-rr:${slug(v)}`),
  ...NATS.map((v) => `nats-ph:${slug(v)}`),
];
const variants = args.length > 0 ? args : all;
for (const variant of variants) {
  if (!all.includes(variant))
    throw new Error(`unknown variant ${variant}; one of ${all.join(' ')}`);
}

// The children load dist/ (see support/impls.ts importBuild): build it first when it is stale.
execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], {
  stdio: 'inherit',
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});
const bench = (name: string) => fileURLToPath(new URL(`./${name}.bench.ts`, import.meta.url));
const results = new Map<string, PerUnit>();
const fmt = (n: number): string => Math.round(n).toLocaleString('en');
for (const variant of variants) {
  const [kind, name] = variant.split(':') as [string, string];
  let perUnit: PerUnit;
  if (kind === 'bullmq') {
    const job: RoundTripJob = {
      variant: BULLMQ.find((v) => slug(v) === name)!,
      warmChunks: bullmqWarm,
      chunks: bullmqChunks,
      instructions: true,
    };
    perUnit = await instructionsPerUnit(node, bench('bullmq'), job, bullmqChunks * 60, variant);
  } else {
    const requestReply = kind === 'nats-rr';
    const job: NatsJob = {
      variant: NATS.find((v) => slug(v) === name)!,
      warmChunks: natsWarm,
      chunks: natsChunks,
      instructions: true,
      only: requestReply ? 'requestReply' : 'publishHandle',
    };
    const units = natsChunks * (requestReply ? 50 : 200);
    perUnit = await instructionsPerUnit(node, bench('nats'), job, units, variant);
  }
  results.set(variant, perUnit);
  console.log(
    `${variant.padEnd(22)} main ${fmt(perUnit.main).padStart(9)}  all ${fmt(perUnit.all).padStart(9)}`,
  );
}

const version = execFileSync(node, ['--version']);
console.log(
  `\nnode ${version.toString().trim()}; BullMQ ${bullmqChunks}+${2 * bullmqChunks} chunks of 60 jobs after ${bullmqWarm}; NATS ${natsChunks}+${2 * natsChunks} chunks after ${natsWarm}`,
);
console.log('instructions per unit      main thread   vs plain   all threads   vs plain');
for (const [variant, { main, all: every }] of results) {
  const plain = results.get(`${variant.split(':')[0]}:plain`);
  const ratio = (a: number, b: number | undefined) =>
    b === undefined ? '' : `${(a / b).toFixed(2)}x`;
  console.log(
    `${variant.padEnd(26)} ${fmt(main).padStart(11)} ${ratio(main, plain?.main).padStart(10)} ${fmt(every).padStart(13)} ${ratio(every, plain?.all).padStart(9)}`,
  );
}
