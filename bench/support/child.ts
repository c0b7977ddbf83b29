/**
 * Child processes: a bench file re-runs itself (or another file) as a child to give an
 * implementation or a registry size a process of its own. Async hooks are process-wide, and a
 * dcontext registry is frozen once per process, so both need a fresh process to be fair.
 *
 * The child gets its job as JSON after `--child` and answers with one stdout line that starts
 * with `RESULT_PREFIX`; anything else it prints is passed through to the parent's stderr.
 */
import { spawn } from 'node:child_process';

/**
 * Every child gets the same fixed young generation. By default V8 sizes it from the heap's
 * history, so two processes differing only in how much code they loaded run a promise-heavy
 * loop 3-8% apart (measured here: the same gap appears between two processes that never load
 * dcontext when one of them merely keeps 200k small objects alive). Fixing it takes that
 * confounder out of the process-to-process comparisons; it applies to all implementations alike.
 */
export const CHILD_NODE_FLAGS: readonly string[] = [
  '--min-semi-space-size=16',
  '--max-semi-space-size=16',
];

const RESULT_PREFIX = '@@bench-result ';

/** The job given to this process, or undefined when it is the parent. */
export function childJob<T>(): T | undefined {
  const index = process.argv.indexOf('--child');
  if (index === -1) return undefined;
  const json = process.argv[index + 1];
  if (json === undefined) throw new Error('--child needs a JSON job');
  return JSON.parse(json) as T;
}

/** Sends this child's result to the parent. */
export function reply(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** Runs `file` in a fresh `node --import tsx` with `job`, and returns what it replies. */
export function runChild<R>(file: string, job: unknown): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...CHILD_NODE_FLAGS, '--import', 'tsx', file, '--child', JSON.stringify(job)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = output.split('\n');
      const answer = lines.find((line) => line.startsWith(RESULT_PREFIX));
      for (const line of lines) {
        if (line !== '' && !line.startsWith(RESULT_PREFIX)) process.stderr.write(`${line}\n`);
      }
      if (code !== 0 || answer === undefined) {
        reject(new Error(`${file} ${JSON.stringify(job)} exited with ${String(code)}`));
        return;
      }
      resolve(JSON.parse(answer.slice(RESULT_PREFIX.length)) as R);
    });
  });
}

/**
 * Measures every implementation in `processes` fresh child processes of `file` each, alternating
 * the order between rounds so that none always runs first or last; returns the ns/op of each
 * process, by implementation. The child answers `{ impl }` jobs with `[{ nsPerOp }]`.
 */
export async function nsPerOpInOwnProcesses<T extends string>(
  file: string,
  implementations: readonly T[],
  processes: number,
): Promise<Map<T, number[]>> {
  const runs = new Map<T, number[]>(implementations.map((impl) => [impl, []]));
  for (let round = 0; round < processes; round++) {
    const order = round % 2 === 0 ? implementations : [...implementations].reverse();
    for (const impl of order) {
      const [measurement] = await runChild<{ nsPerOp: number }[]>(file, { impl });
      runs.get(impl)!.push(measurement!.nsPerOp);
    }
  }
  return runs;
}
