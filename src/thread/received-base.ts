import { CHAIN, OPAQUE, VALUES } from '../store/snapshot.js';
/**
 * The receiving side of a base context (see transfer.ts): a wire string shared by many messages,
 * decoded once against this thread's registry into what every context built on it starts from.
 */

import { runtime } from '../internal/runtime.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import { entryAt, putEntry } from '../store/deferred-entries.js';
import type { OpaqueEntry } from '../store/frame-shape.js';
import type { ChainNode } from '../store/scope-chain.js';
import { asDecodeError, decodeSnapshot, inputBytes } from '../wire/decode.js';
import { CodecTag, headerCodec, headerVersion } from '../wire/format.js';
import { DEFAULT_WIRE_LIMITS } from '../wire/limits.js';
import { parseContext, type RawEntry } from '../wire/parse.js';
import { WireValue } from '../wire/wire-value.js';

/**
 * A received base context, decoded against this thread's registry, that the contexts sent as a
 * difference from it are built on (see `decodeDelta`).
 */
export interface ReceivedBase {
  readonly registry: Registry;
  readonly bytes: Uint8Array;
  readonly entries: readonly RawEntry[];
  /** Every entry by name. */
  readonly byName: ReadonlyMap<string, RawEntry>;
  readonly chainNames: readonly string[];
  readonly chain: ChainNode | null;
  /**
   * Per slot: the decoded value of an entry that decodes to a primitive (shared by every context
   * built on this base: it cannot be changed in place), else undefined.
   */
  readonly primitives: readonly unknown[];
  /** The other usable entries, decoded afresh (lazily) for each context built on this base. */
  readonly lazy: readonly RawEntry[];
  readonly lazyDefinitions: readonly KeyDefinition[];
  readonly opaque: OpaqueEntry[] | null;
}

/**
 * `input` (a wire message) prepared as a {@link ReceivedBase}: decoded once, its entries sorted
 * into decoded primitives, entries to decode lazily and opaque ones. An entry this thread drops
 * (a key local-only here, version 0) is reported now, once.
 */
export function prepareReceivedBase(input: unknown): ReceivedBase {
  const registry = currentRegistry();
  const decoded = decodeSnapshot(input);
  try {
    const bytes = inputBytes(input, runtime.maxContextSize);
    const { chain, entries } = parseContext(bytes, DEFAULT_WIRE_LIMITS);
    const primitives = decoded[VALUES];
    const byName = new Map<string, RawEntry>();
    const lazy: RawEntry[] = [];
    const lazyDefinitions: KeyDefinition[] = [];
    for (const entry of entries) {
      byName.set(entry.name, entry);
      const definition = registry.byName(entry.name);
      if (definition === undefined) continue;
      const value = entryAt(primitives, definition.index);
      if (!(value instanceof WireValue)) continue;
      if (primitivePayload(bytes, entry, definition)) {
        const primitive = value.resolve();
        if (primitive !== undefined) {
          putEntry(primitives, definition.index, primitive);
          continue;
        }
      }
      putEntry(primitives, definition.index, undefined);
      lazy.push(entry);
      lazyDefinitions.push(definition);
    }
    // Room for the lazy entries each context adds (see frame.ts), or none when there are none.
    if (lazy.length === 0) primitives.length = Math.min(primitives.length, registry.size);
    return {
      registry,
      bytes,
      entries,
      byName,
      chainNames: chain,
      chain: decoded[CHAIN],
      primitives,
      lazy,
      lazyDefinitions,
      opaque: decoded[OPAQUE] as OpaqueEntry[] | null,
    };
  } catch (error) {
    throw asDecodeError(error);
  }
}

/**
 * Whether `entry` decodes to a primitive for `definition` with no code of the key's run on it:
 * MessagePack of a nil, boolean, number or string, at the key's own version, without `validate`.
 */
function primitivePayload(bytes: Uint8Array, entry: RawEntry, definition: KeyDefinition): boolean {
  if (headerCodec(entry.header) !== CodecTag.msgpack) return false;
  if (headerVersion(entry.header) !== definition.version) return false;
  if (definition.validate !== undefined) return false;
  const head = bytes[entry.payload]!;
  // fixint, fixstr, nil, booleans, floats, ints, str8-32, negative fixint.
  return (
    head < 0x80 ||
    (head >= 0xa0 && head <= 0xc3 && head !== 0xc1) ||
    (head >= 0xca && head <= 0xd3) ||
    (head >= 0xd9 && head <= 0xdb) ||
    head >= 0xe0
  );
}
