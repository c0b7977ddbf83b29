import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';

/**
 * Bounds `deserialize` checks before it decodes anything, so a small hostile input cannot make
 * it allocate without bound or recurse deeply. Every declared length must also fit in the bytes
 * that remain, so allocation never exceeds a small multiple of the input size.
 */
export interface WireLimits {
  /** Nested non-empty arrays/maps inside one entry's value. Default 32. */
  readonly maxDepth: number;
  /** Entries in one context. Default 1024. */
  readonly maxEntries: number;
  /** Names in the received scope chain. Default 256. */
  readonly maxChainLength: number;
  /** Bytes in one string or binary (key names included). Default 65 536. */
  readonly maxStringLength: number;
  /** Elements of one array, or pairs of one map. Default 65 536. */
  readonly maxCollectionLength: number;
}

/** The limits used when `deserialize` gets no `limits` option. */
export const DEFAULT_WIRE_LIMITS: WireLimits = Object.freeze({
  maxDepth: 32,
  maxEntries: 1024,
  maxChainLength: 256,
  maxStringLength: 64 * 1024,
  maxCollectionLength: 64 * 1024,
});

/** `DEFAULT_WIRE_LIMITS` with the given overrides. */
export function resolveLimits(overrides: Partial<WireLimits> | undefined): WireLimits {
  if (overrides === undefined) return DEFAULT_WIRE_LIMITS;
  const limits = { ...DEFAULT_WIRE_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        `wire limit ${name} must be an integer >= 0 (got ${String(value)})`,
      );
    }
  }
  return limits;
}

/**
 * Sets the largest serialized context, in bytes (default 64 KiB). `serialize` of a larger
 * context throws `CONTEXT_TOO_LARGE`; `deserialize` rejects larger input before decoding it.
 * Per thread (each worker has its own limit, default 64 KiB); set it at startup, in every thread.
 *
 * @example
 * setMaxContextSize(8 * 1024); // keep headers small
 */
export function setMaxContextSize(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `setMaxContextSize needs an integer number of bytes >= 1 (got ${String(bytes)})`,
    );
  }
  runtime.maxContextSize = bytes;
}

/** The current maximum serialized context size, in bytes. */
export function maxContextSize(): number {
  return runtime.maxContextSize;
}

/** The `CONTEXT_TOO_LARGE` error for a context of `size` bytes. */
export function tooLarge(
  size: number,
  limit: number,
  direction: 'serialize' | 'deserialize',
): DContextError {
  const what =
    direction === 'serialize'
      ? 'set fewer or smaller values, mark bulky keys local, or raise the limit with setMaxContextSize()'
      : 'the input was rejected before decoding; raise the limit with setMaxContextSize() if the sender is trusted';
  return new DContextError(
    'CONTEXT_TOO_LARGE',
    `serialized context is ${size} bytes, over the limit of ${limit} bytes; ${what}`,
  );
}
