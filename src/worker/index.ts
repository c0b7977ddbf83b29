/**
 * `dcontext/worker`: context into worker threads and pools.
 *
 * - {@link spawnWithContext}: a `Worker` whose code starts in the spawner's context.
 * - {@link postWithContext} / {@link onMessageWithContext}: messages that carry context, for
 *   long-lived workers.
 * - {@link runWithContext} / {@link withTaskContext}: Piscina tasks that run in the submitter's
 *   context.
 * - {@link errorContext}: the context attached to an error from any of these.
 */
export { errorContext, type FailedWorkContext } from './error-context.js';
export {
  type MessageSource,
  type MessageTarget,
  onMessageWithContext,
  postWithContext,
} from './messages.js';
export { runWithContext, type TaskPool } from './pool.js';
export { withTaskContext } from './pool-task.js';
export { spawnWithContext } from './spawn.js';
