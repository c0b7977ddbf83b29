import type { KeyObject } from 'node:crypto';
import type { DContextError } from '../errors.js';
import type { CodecName } from './format.js';
import type { WireLimits } from './limits.js';

/** Options of `deserialize` and of the stores' `deserialize`. */
export interface DeserializeOptions {
  /**
   * What an unusable entry does (a payload that does not decode, a failing migration or
   * `validate`, a key that is local-only here):
   * - `'drop'` (default): entries are decoded lazily, on the first read of their key; a bad one is
   *   dropped, reported to `onDroppedEntry`, and the key reads as unset.
   * - `'throw'`: every entry is decoded now, and the first bad one makes `deserialize` throw
   *   `DECODE_FAILED` (naming the key).
   */
  readonly onDecodeError?: 'drop' | 'throw';
  /**
   * Receives the `DECODE_FAILED` error of each dropped entry, when it is found (on the first
   * read of the key, in lazy mode). Default: `process.emitWarning` with code `DCONTEXT_DECODE`.
   */
  readonly onDroppedEntry?: (error: DContextError) => void;
  /**
   * Entries this process cannot decode - keys not registered here, versions newer than this
   * process knows, unknown codec tags: `'keep'` (default) holds them as opaque bytes and sends
   * them on, unchanged, when this context is serialized again; `'drop'` discards them.
   */
  readonly unknownEntries?: 'keep' | 'drop';
  /** Overrides of the decoding bounds (see {@link WireLimits}). */
  readonly limits?: Partial<WireLimits>;
  /**
   * Which keys this input may set: `'all'` (default), `'none'`, or a list of key names or
   * `ContextKey`s. Every other entry - registered, unknown or of a newer version - is dropped
   * (never forwarded) and reported to `onDroppedEntry` with code `NOT_ACCEPTED`, naming the key;
   * past the first 16 in one input, the rest are reported once, together, with their count in
   * the message (an input of a thousand tiny entries makes 17 reports, not a thousand).
   * Anyone who can send the input can set any key it accepts: at an edge that faces untrusted
   * callers, pass the list of keys they may set.
   */
  readonly accept?: 'all' | 'none' | readonly (string | { readonly name: string })[];
  /**
   * HMAC keys the input must be signed with (see `SerializeOptions.signingKey`): the current one
   * and, during a rotation, the previous ones. An input without a valid tag for one of them
   * throws `BAD_SIGNATURE` before anything else in it is read. Without this option a signed
   * input is accepted and its tag ignored.
   */
  readonly verifyKeys?: readonly SigningKey[];
}

/**
 * An HMAC-SHA256 key: a string (its UTF-8 bytes), bytes, or a secret `KeyObject`; at least 16
 * bytes (32 random bytes recommended).
 */
export type SigningKey = string | Uint8Array | KeyObject;

/** Options of `serialize` and `serializeToString`. */
export interface SerializeOptions {
  /**
   * Appends an HMAC-SHA256 tag of the message made with this key, for receivers that pass
   * `verifyKeys` (see docs/wire-format.md, "Sign a context").
   */
  readonly signingKey?: SigningKey;
  /**
   * Which keys to send: `'all'` (default) or a list of key names or `ContextKey`s. Entries of
   * other keys are left out - registered ones and also those received from upstream for keys
   * this process does not know (which are otherwise forwarded as they came). An edge that calls
   * another party uses it to send only what that party needs.
   */
  readonly keys?: 'all' | readonly (string | { readonly name: string })[];
}

/** A JSON-compatible value, as shown in debug views. */
export type DebugValue =
  | null
  | boolean
  | number
  | string
  | readonly DebugValue[]
  | { readonly [key: string]: DebugValue };

/** One entry of a {@link DebugView}. */
export interface DebugEntry {
  readonly key: string;
  readonly version: number;
  readonly codec: CodecName;
  /** The value in a JSON-safe form; absent when it cannot be shown (custom codec, undecodable). */
  readonly value?: DebugValue;
  /** Set on local-only keys: they never cross the wire. */
  readonly local?: true;
  /** Set on entries held as opaque bytes, with why. */
  readonly opaque?: 'unknown-key' | 'newer-version' | 'unknown-codec';
  /** Payload size in bytes, for entries whose value is not shown. */
  readonly bytes?: number;
  /** Why the value is not shown, when it could not be decoded. */
  readonly error?: string;
}

/** A readable view of a context, for logs, tests and the `dcontext decode` command. */
export interface DebugView {
  /** The wire format version. */
  readonly format: number;
  /** The scope chain, outermost first. */
  readonly chain: readonly string[];
  readonly entries: readonly DebugEntry[];
}
