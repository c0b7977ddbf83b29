/**
 * A context entry received from the wire and not decoded yet. It sits in the key's slot; the
 * first read decodes it (see `readSlot` in store/frame.ts) and every later read sees the
 * memoized value. Until then `serialize` copies its bytes as they arrived, so a service that
 * only forwards context never decodes it.
 */
import type { DContextError } from '../errors.js';
import { shared } from '../internal/runtime.js';
import type { KeyDefinition } from '../registry/types.js';
import { DeferredValue } from '../store/deferred.js';
import { decodeEntry } from './decode-entry.js';
import type { RawEntry } from './parse.js';
import type { ByteWriter, RawRun } from './writer.js';

/** Receives the error of an entry dropped on a lazy read. */
export type DropReporter = (error: DContextError) => void;

class WireValueImpl extends DeferredValue {
  readonly #bytes: Uint8Array;
  readonly #entry: RawEntry;
  readonly #definition: KeyDefinition;
  readonly #report: DropReporter;
  #pending = true;
  #value: unknown;

  constructor(bytes: Uint8Array, entry: RawEntry, definition: KeyDefinition, report: DropReporter) {
    super();
    this.#bytes = bytes;
    this.#entry = entry;
    this.#definition = definition;
    this.#report = report;
  }

  /** Whether the entry is still undecoded (then `serialize` copies it as received). */
  get pending(): boolean {
    return this.#pending;
  }

  /** Adds the entry, as received, to `run` (see `RawRun`). */
  copyTo(run: RawRun, writer: ByteWriter): void {
    run.add(writer, this.#bytes, this.#entry.start, this.#entry.end);
  }

  /**
   * The decoded value, decoded once; `undefined` when the entry is unusable (the failure is
   * reported once, and the key then reads as unset).
   */
  override resolve(): unknown {
    if (!this.#pending) return this.#value;
    this.#pending = false;
    try {
      this.#value = decodeEntry(this.#bytes, this.#entry, this.#definition);
    } catch (error) {
      this.#value = undefined;
      this.#report(error as DContextError);
    }
    return this.#value;
  }
}

/** Shared across the ESM and CJS builds, so either build forwards the other's entries. */
export const WireValue: typeof WireValueImpl = shared('WireValue', WireValueImpl);
/** A context entry received from the wire, decoded on first read. */
export type WireValue = WireValueImpl;
