import type { DContextError, SigningKey } from '../../index.js';

/** A list of key names or `ContextKey`s. */
export type KeyList = readonly (string | { readonly name: string })[];

/** What a producer sends with a job or a message. */
export interface SendOptions {
  /**
   * Which keys go with it: `'all'` (default) or a list of key names or `ContextKey`s. Local-only
   * keys never leave.
   */
  readonly send?: 'all' | KeyList;
  /** Signs the context (`serialize`'s `signingKey`); consumers check it with `verifyKeys`. */
  readonly signingKey?: SigningKey;
}

/**
 * How a consumer reads the context a job or a message carries. `T` is the job or the message,
 * handed to `onError`.
 */
export interface ReceiveOptions<T> {
  /**
   * Which keys the carried context may set: `'all'` (default: a queue or a broker is written by
   * your own services, and whoever can write to it can forge the payload anyway), `'none'`, or a
   * list of key names or `ContextKey`s. Other entries are dropped and reported to `onError` as
   * `NOT_ACCEPTED`. With `'none'` the producer's scope chain is not taken either.
   */
  readonly accept?: 'all' | 'none' | KeyList;
  /** HMAC keys the context must be signed with (`deserialize`'s `verifyKeys`). */
  readonly verifyKeys?: readonly SigningKey[];
  /**
   * Receives each `DContextError` of a delivery: why its context was refused (`DECODE_FAILED`,
   * `CONTEXT_TOO_LARGE`, `BAD_SIGNATURE`), one `NOT_ACCEPTED` per dropped entry (past 16, one more for the rest, with their count). Default: one
   * `DContextWarning` per error code and process, then silence; pass `onError` to log each.
   */
  readonly onError?: (error: DContextError, item: T) => void;
}
