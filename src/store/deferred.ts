import { shared } from '../internal/runtime.js';

/**
 * A slot value that is not decoded yet (a context entry that arrived from the wire).
 * Readers call {@link DeferredValue.resolve} on first read and store the result back into the
 * slot; that in-place memoization is invisible to every frame and snapshot sharing the slot
 * array, since they all mean the same value.
 *
 * `resolve` returns `undefined` when the entry cannot be decoded: the key then reads as unset.
 */
abstract class DeferredValueBase {
  abstract resolve(): unknown;
}

/** Shared across the ESM and CJS builds so `instanceof` works for values from either. */
export const DeferredValue: typeof DeferredValueBase = shared('DeferredValue', DeferredValueBase);
export type DeferredValue = DeferredValueBase;
