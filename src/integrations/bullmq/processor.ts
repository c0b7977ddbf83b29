/** The worker side: each job runs in a fresh scope `job:<queue>` holding its enqueuer's context. */
import type { Job } from 'bullmq';
import type { DContextError } from '../../index.js';
import { Snapshot } from '../../index.js';
import {
  checkedOptions,
  choice,
  readInbound,
  resolveReceiver,
  runFresh,
} from '../delivery/receive.js';
import { describe, invalid } from '../http/check.js';
import type { JobContextOptions, JobLike } from './types.js';
import { JOB_OPTION } from './types.js';

/**
 * Wraps a BullMQ processor: each job runs in a fresh scope named `job:<queue>` whose values are
 * those of the code that added it (with {@link addWithContext}) and whose scope chain starts
 * with the enqueuer's. Retries, delayed jobs, stalled-job recovery and flows run with the
 * original context; a job never sees another job's values. A job added without context runs
 * in an empty `job:<queue>` scope. See {@link JobContextOptions} for bad contexts.
 *
 * @example
 * new Worker('emails', withJobContext(async (job) => send(job.data, get(requestId))), { connection });
 */
export function withJobContext<J extends JobLike = Job, A extends unknown[] = [], R = unknown>(
  processor: (job: J, ...rest: A) => R,
  options?: JobContextOptions<J>,
): (job: J, ...rest: A) => Promise<Awaited<R>> {
  if (typeof processor !== 'function') {
    throw invalid(`withJobContext takes a processor function (got ${describe(processor)})`);
  }
  const object = checkedOptions<JobContextOptions<J>>(options, 'withJobContext');
  const fail =
    choice(object.onInvalid, ['drop', 'fail'], 'drop', 'withJobContext option onInvalid') ===
    'fail';
  const receiver = resolveReceiver<J>(object, 'withJobContext', 'bullmq');
  // Not an async function: the processor's own promise is handed to BullMQ as it is (an async
  // wrapper added a promise per job, and a second one per await, each with its async hooks on
  // Node 20); whatever throws still comes back as a rejection.
  return (job: J, ...rest: A): Promise<Awaited<R>> => {
    try {
      const input = (job.opts as Record<string, unknown>)[JOB_OPTION];
      const inbound = readInbound(
        receiver,
        input,
        job,
        () => `the context of job in queue '${job.queueName}'`,
      );
      if (!inbound.ok && fail) return Promise.reject(inbound.error satisfies DContextError);
      const snapshot = inbound.ok ? inbound.snapshot : Snapshot.empty();
      // Promise.resolve inside the frame: a lazy thenable (a query builder) runs its then() there.
      return runFresh(snapshot, `job:${job.queueName}`, () =>
        Promise.resolve(processor(job, ...rest)),
      ) as Promise<Awaited<R>>;
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
