/**
 * `dcontext/bullmq`: context through BullMQ job queues. Producers add jobs with the current
 * context (`addWithContext`, `addBulkWithContext`, `addFlowWithContext`); a worker's processor
 * wrapped in `withJobContext` runs each job in a fresh `job:<queue>` scope holding it.
 * Loads nothing of bullmq: the queue, flow producer and worker are the caller's.
 */

export type { ReceiveOptions, SendOptions } from '../delivery/types.js';
export {
  addBulkWithContext,
  addFlowWithContext,
  addWithContext,
  type FlowProducerLike,
  jobContext,
  jobOptionsWithContext,
  type QueueLike,
} from './enqueue.js';
export { withJobContext } from './processor.js';
export type { JobContextOptions, JobLike } from './types.js';
