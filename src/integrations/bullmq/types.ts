import type { DContextError, SigningKey } from '../../index.js';

/** The job option the context travels in (next to BullMQ's own options, never in `data`). */
export const JOB_OPTION = 'dcontext';

/** What `withJobContext` needs of a BullMQ `Job`. */
export interface JobLike {
  readonly queueName: string;
  readonly opts: object;
}

/** A list of key names or `ContextKey`s. */
export type KeyList = readonly (string | { readonly name: string })[];

/** What a job carries: the last argument of `addWithContext` and its siblings. */
export interface JobSendOptions {
  /**
   * Which keys go with the job: `'all'` (default) or a list of key names or `ContextKey`s.
   * Local-only keys never leave.
   */
  readonly send?: 'all' | KeyList;
  /** Signs the context (`serialize`'s `signingKey`); workers check it with `verifyKeys`. */
  readonly signingKey?: SigningKey;
}

/** Options of {@link withJobContext}. */
export interface JobContextOptions<J extends JobLike = JobLike> {
  /**
   * Which keys the job's context may set: `'all'` (default: a queue is written by your own
   * services, and whoever can write to it can forge the job's data anyway), `'none'`, or a list
   * of key names or `ContextKey`s. Other entries are dropped and reported to `onError` as
   * `NOT_ACCEPTED`. With `'none'` the enqueuer's scope chain is not taken either.
   */
  readonly accept?: 'all' | 'none' | KeyList;
  /** HMAC keys the context must be signed with (`deserialize`'s `verifyKeys`). */
  readonly verifyKeys?: readonly SigningKey[];
  /**
   * What a job whose context cannot be read does (garbage, over the size limit, a bad signature,
   * a key version this worker cannot migrate): `'drop'` (default) runs it with no inbound
   * entries and reports the error to `onError`; `'fail'` fails the job with the
   * `DContextError`, so BullMQ's attempts, backoff and failed set apply.
   */
  readonly onInvalid?: 'drop' | 'fail';
  /**
   * Receives each `DContextError` of a job: why its context was refused (`DECODE_FAILED`,
   * `CONTEXT_TOO_LARGE`, `BAD_SIGNATURE`), and one `NOT_ACCEPTED` per dropped entry (past 16, one more for the rest, with their count). Default: one
   * `DContextWarning` per error code and process, then silence; pass `onError` to log each.
   */
  readonly onError?: (error: DContextError, job: J) => void;
}
