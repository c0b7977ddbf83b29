/**
 * The producer side: the current context goes into the job's options (`opts.dcontext`), where
 * BullMQ stores it with the job and keeps it through retries, delays, stalled-job recovery,
 * schedulers and flows - never into the user's `data`.
 */
import type { FlowJob, FlowOpts, JobNode, JobsOptions } from 'bullmq';
import { currentContext } from '../delivery/send.js';
import { describe, invalid } from '../http/check.js';
import type { JobSendOptions } from './types.js';
import { JOB_OPTION } from './types.js';

/** What `addWithContext` and `addBulkWithContext` need of a BullMQ `Queue`. */
export interface QueueLike {
  add(name: string, data: unknown, opts?: JobsOptions): Promise<unknown>;
  addBulk(jobs: { name: string; data: unknown; opts?: JobsOptions }[]): Promise<unknown[]>;
}

/** What `addFlowWithContext` needs of a BullMQ `FlowProducer`. */
export interface FlowProducerLike {
  add(flow: FlowJob, opts?: FlowOpts): Promise<JobNode>;
}

function withContextOption(opts: unknown, context: string, door: string): JobsOptions {
  if (opts === undefined || opts === null) return { [JOB_OPTION]: context } as JobsOptions;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw invalid(`${door} opts must be BullMQ job options (got ${describe(opts)})`);
  }
  return { ...opts, [JOB_OPTION]: context } as JobsOptions;
}

/**
 * `queue.add(name, data, opts)` with the current context in the job's options. The worker's
 * {@link withJobContext} runs the job with it. Rejects with `CONTEXT_TOO_LARGE` (over
 * `setMaxContextSize`) or `ENCODE_FAILED` without adding the job.
 *
 * @example
 * await addWithContext(emails, 'welcome', { to: 'a@example.com' }, { attempts: 3 });
 */
export function addWithContext<Q extends QueueLike>(
  queue: Q,
  name: Parameters<Q['add']>[0],
  data: Parameters<Q['add']>[1],
  opts?: JobsOptions,
  options?: JobSendOptions,
): Promise<Awaited<ReturnType<Q['add']>>> {
  // Not an async function: `queue.add`'s promise is returned as it is (one promise less per job);
  // a context that cannot be sent, or a queue that throws, still rejects.
  try {
    const context = currentContext(options, 'addWithContext');
    return Promise.resolve(
      queue.add(name, data, withContextOption(opts, context, 'addWithContext')),
    ) as Promise<Awaited<ReturnType<Q['add']>>>;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `queue.addBulk(jobs)` with the current context in every job's options (one serialization for
 * all of them).
 *
 * @example
 * await addBulkWithContext(emails, users.map((u) => ({ name: 'digest', data: { to: u.email } })));
 */
export async function addBulkWithContext<Q extends QueueLike>(
  queue: Q,
  jobs: Parameters<Q['addBulk']>[0],
  options?: JobSendOptions,
): Promise<Awaited<ReturnType<Q['addBulk']>>> {
  if (!Array.isArray(jobs)) {
    throw invalid(`addBulkWithContext takes a list of jobs (got ${describe(jobs)})`);
  }
  const context = currentContext(options, 'addBulkWithContext');
  for (const job of jobs as unknown[]) {
    if (typeof job !== 'object' || job === null || Array.isArray(job)) {
      throw invalid(
        `addBulkWithContext takes a list of jobs { name, data, opts? } (got ${describe(job)} in it)`,
      );
    }
  }
  const stamped = jobs.map((job) => ({
    ...job,
    opts: withContextOption(job.opts, context, 'addBulkWithContext'),
  }));
  return (await queue.addBulk(stamped)) as Awaited<ReturnType<Q['addBulk']>>;
}

function stampFlow(node: FlowJob, context: string): FlowJob {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw invalid(`addFlowWithContext takes a flow whose jobs are objects (got ${describe(node)})`);
  }
  const children: unknown = (node as { children?: unknown }).children;
  if (children !== undefined && !Array.isArray(children)) {
    throw invalid(
      `addFlowWithContext: a flow job's children must be a list of jobs (got ${describe(children)})`,
    );
  }
  const opts = withContextOption(node.opts, context, 'addFlowWithContext');
  return (
    children === undefined
      ? { ...node, opts }
      : {
          ...node,
          opts,
          children: (children as FlowJob[]).map((child) => stampFlow(child, context)),
        }
  ) as FlowJob;
}

/**
 * `flowProducer.add(flow)` with the current context in the options of the parent and of every
 * child: each job of the flow runs with the context it was added in.
 *
 * @example
 * await addFlowWithContext(flows, { name: 'order', queueName: 'orders', children: [...] });
 */
export async function addFlowWithContext<P extends FlowProducerLike>(
  flowProducer: P,
  flow: FlowJob,
  opts?: FlowOpts,
  options?: JobSendOptions,
): Promise<JobNode> {
  if (typeof flow !== 'object' || flow === null) {
    throw invalid(`addFlowWithContext takes a flow (got ${describe(flow)})`);
  }
  const context = currentContext(options, 'addFlowWithContext');
  return flowProducer.add(stampFlow(flow, context), opts);
}

/**
 * `opts` with the current context added: for the job options BullMQ takes elsewhere, such as a
 * job scheduler's template (every job it makes runs with this context).
 *
 * @example
 * await queue.upsertJobScheduler('nightly', { pattern: '0 3 * * *' }, {
 *   name: 'report',
 *   opts: jobOptionsWithContext({ attempts: 2 }),
 * });
 */
export function jobOptionsWithContext(opts?: JobsOptions, options?: JobSendOptions): JobsOptions {
  const context = currentContext(options, 'jobOptionsWithContext');
  return withContextOption(opts, context, 'jobOptionsWithContext');
}

/**
 * The context string a job carries (`undefined` when it has none): for tools that inspect jobs
 * (`deserialize(jobContext(job))`, `toDebugJSON`).
 */
export function jobContext(job: { readonly opts: object }): string | undefined {
  const value = (job.opts as Record<string, unknown>)[JOB_OPTION];
  return typeof value === 'string' ? value : undefined;
}
