/**
 * Instruction counts of a bench child run under valgrind's callgrind: deterministic where CPU
 * time on a shared 2-core machine is not (the same binary, inputs and environment give the same
 * count whatever else runs). The child zeroes the counters after its warm-up, runs N units and
 * dumps, then runs 2N units and dumps again; the instructions per unit are (I(2N) − I(N)) / N,
 * which leaves out whatever a window costs besides its units. Counted per thread: the main thread
 * (JavaScript, the event loop, most of the GC) and all threads (plus the JIT compiler's and
 * the GC's helper threads, which vary from run to run).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHILD_NODE_FLAGS } from './child.js';

/** Child side: `callgrind_control <flag>` on this process (keeping the event loop awake meanwhile). */
export function callgrindControl(flag: '-z' | '-d'): Promise<void> {
  return new Promise((resolve, reject) => {
    const awake = setInterval(() => {}, 5);
    execFile('callgrind_control', [flag, String(process.pid)], (error) => {
      clearInterval(awake);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** Instructions per unit, of the main thread and of all threads. */
export interface PerUnit {
  readonly main: number;
  readonly all: number;
}

/** Where the instruction benches write their callgrind dumps. */
export const INSTRUCTIONS_DIR = join(tmpdir(), 'dcontext-instructions');
const out = INSTRUCTIONS_DIR;

/** `--name value` taken out of `args` (the command line after the script), or `fallback`. */
export function cliOption(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  return value ?? fallback;
}

/** The total instructions (`summary:` / `totals:` line) of a callgrind dump. */
function total(file: string): number {
  const match = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!match) throw new Error(`no totals in ${file}`);
  return Number(match[1]);
}

/** Instructions of the main thread and of all threads, in the dumps `<prefix>.<part>-NN`. */
export function counts(prefix: string, part: number): PerUnit {
  const files = readdirSync(out).filter((file) => file.startsWith(`${prefix}.${part}-`));
  if (files.length === 0) throw new Error(`no callgrind dump ${prefix}.${part}`);
  let main = 0;
  let all = 0;
  for (const file of files) {
    const count = total(join(out, file));
    all += count;
    if (file.endsWith('-01')) main = count;
  }
  return { main, all };
}

/**
 * Runs `file --child <job>` with `node` under callgrind; the child calls `callgrindControl('-z')`
 * after its warm-up, then `'-d'` after `units` units and again after `2 * units` more.
 */
export async function instructionsPerUnit(
  node: string,
  file: string,
  job: unknown,
  units: number,
  tag: string,
): Promise<PerUnit> {
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(out)) if (name.startsWith(`${tag}.`)) rmSync(join(out, name));
  const base = join(out, tag);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${base}.%p`,
      node,
      ...CHILD_NODE_FLAGS,
      '--import',
      'tsx',
      file,
      '--child',
      JSON.stringify(job),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${tag}: exited with ${code}\n${stderr.slice(-2000)}`);
  const prefix = `${tag}.${child.pid}`;
  const one = counts(prefix, 1);
  const two = counts(prefix, 2);
  return { main: (two.main - one.main) / units, all: (two.all - one.all) / units };
}

/** µs per unit: wall time, and this process's CPU time (user + system). */
export interface PerUnitTime {
  readonly wallUs: number;
  readonly cpuUs: number;
}

/**
 * Runs `chunk` (`perChunk` units each) `warmChunks` times unmeasured, then `chunks` times timed.
 * With `instructions` (the process runs under callgrind, see {@link instructionsPerUnit}) it
 * zeroes the counters after the warm-up, dumps after `chunks` chunks and again after `2 * chunks`
 * more, and returns zero times.
 */
export async function timeChunks(
  chunk: () => Promise<void>,
  {
    warmChunks,
    chunks,
    instructions,
  }: { warmChunks: number; chunks: number; instructions?: boolean },
  perChunk: number,
): Promise<PerUnitTime> {
  for (let i = 0; i < warmChunks; i++) await chunk();
  if (instructions === true) {
    await callgrindControl('-z');
    for (let i = 0; i < chunks; i++) await chunk();
    await callgrindControl('-d');
    for (let i = 0; i < 2 * chunks; i++) await chunk();
    await callgrindControl('-d');
    return { wallUs: 0, cpuUs: 0 };
  }
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < chunks; i++) await chunk();
  const wallUs = ((performance.now() - started) * 1000) / (chunks * perChunk);
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / (chunks * perChunk) };
}
