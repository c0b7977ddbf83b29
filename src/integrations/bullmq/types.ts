import type { DContextError } from '../../index.js';
import type { ReceiveOptions } from '../delivery/types.js';

/** The job option the context travels in (next to BullMQ's own options, never in `data`). */
export const JOB_OPTION = 'dcontext';

/** What `withJobContext` needs of a BullMQ `Job`. */
export interface JobLike {
  readonly queueName: string;
  readonly opts: object;
}

/** Options of {@link withJobContext}. */
export interface JobContextOptions<J extends JobLike = JobLike> extends ReceiveOptions<J> {
  /**
   * What a job whose context cannot be read does (garbage, over the size limit, a bad signature,
   * a key version this worker cannot migrate): `'drop'` (default) runs it with no inbound
   * entries and reports the error to `onError`; `'fail'` fails the job with the
   * `DContextError`, so BullMQ's attempts, backoff and failed set apply.
   */
  readonly onInvalid?: 'drop' | 'fail';
  /** Receives each `DContextError` of a job (see `ReceiveOptions.onError`). */
  readonly onError?: (error: DContextError, job: J) => void;
}
