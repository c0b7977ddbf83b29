/**
 * Runs tinybench over batched tasks and returns nanoseconds per operation.
 *
 * Most operations measured here take a few nanoseconds, below what a timer read around a single
 * call can resolve, so every task function runs its operation `batch` times in a loop written
 * inline in the task itself (a shared loop helper would make the call inside it megamorphic and
 * slow every implementation alike). A round's figure is its median sample divided by `batch`
 * (the median, not the mean: one garbage collection or preemption does not move it).
 *
 * The machine is shared, so each process measures its tasks in several short rounds, rotating
 * the order each round, and keeps the median round: a burst of load elsewhere then skews one
 * round rather than one implementation. `BENCH_DEBUG=1` prints every round.
 */
import { Bench } from 'tinybench';

/** Short runs while developing: `--quick` on the command line or `BENCH_QUICK=1`. */
export const quick: boolean = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

export interface BatchTask {
  readonly name: string;
  /** How many operations one call of `fn` performs. */
  readonly batch: number;
  readonly fn: () => unknown;
}

export interface Measurement {
  readonly name: string;
  /** Median over rounds of each round's median ns/op. */
  readonly nsPerOp: number;
  /** Largest distance of a round from that median, in percent of it. */
  readonly spread: number;
}

export interface MeasureOptions {
  /** Time budget per task per round, in ms. */
  readonly time?: number;
  readonly rounds?: number;
  /** `true` when the task functions return promises. */
  readonly async?: boolean;
}

/** Runs `fn` inside an implementation's context and returns what it returns. */
export type Enter = <R>(fn: () => R) => R;

/**
 * Tasks measured inside one implementation's context. Only that implementation's context is
 * active while they run: since Node 24, `AsyncLocalStorage.run` copies the map of every store
 * active in the current frame, so nesting all implementations' contexts would charge each
 * `run` for the others' stores.
 */
export interface TaskGroup {
  readonly enter?: Enter;
  readonly tasks: readonly BatchTask[];
}

const outside: Enter = (fn) => fn();

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) throw new Error('median of no values');
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function spreadPercent(values: readonly number[], center: number): number {
  return (Math.max(...values.map((value) => Math.abs(value - center))) / center) * 100;
}

/** Measures `groups` (or tasks run outside any context) in rounds; see the module comment. */
export async function measure(
  groups: readonly TaskGroup[] | readonly BatchTask[],
  options: MeasureOptions = {},
): Promise<Measurement[]> {
  const taskGroups: readonly TaskGroup[] = groups.every((group) => 'tasks' in group)
    ? (groups as readonly TaskGroup[])
    : [{ tasks: groups as readonly BatchTask[] }];
  const tasks = taskGroups.flatMap((group) => group.tasks);
  const rounds = options.rounds ?? (quick ? 2 : 5);
  const time = options.time ?? (quick ? 60 : 250);
  const samples = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
  // Round 0 is a warm-up whose figures are dropped. Code shared by the implementations changes
  // under them once all have run: Node 20's ALS keeps each store in a property of the current
  // async resource, and when another instance's store lands there V8 generalizes that object's
  // field types and deoptimizes code compiled against the old shape. Only the steady state
  // that follows is measured, the same for every implementation.
  for (let round = 0; round <= rounds; round++) {
    const warmup = round === 0;
    for (let g = 0; g < taskGroups.length; g++) {
      const group = taskGroups[(g + round) % taskGroups.length]!;
      const bench = new Bench({
        time: warmup ? time / 4 : time,
        warmupTime: warmup ? time / 4 : time / 2,
        iterations: 20,
        throws: true,
      });
      for (let i = 0; i < group.tasks.length; i++) {
        const task = group.tasks[(i + round) % group.tasks.length]!;
        bench.add(task.name, task.fn);
      }
      const enter = group.enter ?? outside;
      if (options.async === true) await enter(() => bench.run());
      else enter(() => bench.runSync());
      if (warmup) continue;
      for (const task of group.tasks) {
        const result = bench.getTask(task.name)?.result;
        if (result?.state !== 'completed') {
          throw new Error(
            `benchmark '${task.name}' did not complete (${result?.state ?? 'missing'})`,
          );
        }
        samples.get(task.name)!.push((result.latency.p50 * 1e6) / task.batch);
      }
    }
  }
  if (process.env.BENCH_DEBUG === '1') {
    for (const [name, values] of samples) {
      console.error(`${name}: ${values.map((value) => value.toFixed(2)).join(' ')} ns/op by round`);
    }
  }
  return tasks.map((task) => {
    const values = samples.get(task.name)!;
    const nsPerOp = median(values);
    return { name: task.name, nsPerOp, spread: spreadPercent(values, nsPerOp) };
  });
}
