/**
 * The receiving side of a delta: a context rebuilt from a {@link ReceivedBase} and what changed
 * (see transfer.ts for the shape).
 */
import { runtime } from '../internal/runtime.js';
import { putDeferred, putEntry } from '../store/deferred-entries.js';
import type { OpaqueEntry } from '../store/frame-shape.js';
import { chainFromNames } from '../store/scope-chain.js';
import { Snapshot } from '../store/snapshot.js';
import { asDecodeError, decodeSnapshot, inputBytes, warnDropped } from '../wire/decode.js';
import { CodecTag, entryHeader, FORMAT_VERSION } from '../wire/format.js';
import { DEFAULT_WIRE_LIMITS } from '../wire/limits.js';
import { parseContext, type RawEntry } from '../wire/parse.js';
import { writePlain } from '../wire/plain-encoder.js';
import { malformed } from '../wire/scan.js';
import { WireValue } from '../wire/wire-value.js';
import { ByteWriter } from '../wire/writer.js';
import { entryBound, plainDataSize, stringBound } from './plain-data.js';
import type { ReceivedBase } from './received-base.js';

/**
 * A delta as it arrived from another thread: untrusted, so its parts are `unknown` until
 * {@link decodeDelta} has checked them.
 */
export interface ReceivedDelta {
  /** The scope chain's names when the chain changed, or null for the base's chain. */
  readonly chainNames: unknown;
  /** Changed entries encoded as a wire message, or null. */
  readonly changes: unknown;
  /** Holds the changed plain entries as `[name, version, value]` triples from `start` on. */
  readonly plain: readonly unknown[];
  readonly start: number;
}

/**
 * What `deserialize` (default options) gives for the message made of `base`'s entries, except
 * those the change names, then the changed entries, under `chainNames` (base's chain when null):
 * a context sent as its difference from one sent before. Changed entries come as the entries of
 * a wire message (`changes`, whose own chain is ignored) and as `[name, version, value]` triples
 * in `plain` from index `start`: values of MessagePack-codec keys that structured clone carries
 * as the wire format would (see `plainDataSize`), not encoded. The common case (plain entries of
 * keys this thread takes as they are) is built straight from the prepared base; any other
 * decodes that message. Values that are not primitives are decoded afresh for each call: no
 * object is shared between the contexts built on one base.
 */
export function decodeDelta(base: ReceivedBase, delta: ReceivedDelta): Snapshot {
  const { chainNames, changes, plain, start } = delta;
  try {
    if (chainNames !== null) {
      if (!Array.isArray(chainNames)) throw malformed('the scope chain is not a list', 0);
      for (const name of chainNames) {
        if (typeof name !== 'string') throw malformed('a scope name is not a string', 0);
      }
    }
    if ((plain.length - start) % 3 !== 0) throw malformed('a plain entry is incomplete', 0);
    if (changes === null) {
      const built = fromPlainChanges(base, chainNames as string[] | null, plain, start);
      if (built !== undefined) return built;
    }
    return decodeSnapshot(
      mergedMessage(base, chainNames as string[] | null, changes, plain, start),
    );
  } catch (error) {
    throw asDecodeError(error);
  }
}

/**
 * The common case of {@link decodeDelta}: only plain entries, all of keys this thread takes as
 * they are (registered, not local-only, same version, no `validate`), well within the limits.
 * Undefined when the message must be decoded instead.
 */
function fromPlainChanges(
  base: ReceivedBase,
  chainNames: readonly string[] | null,
  plain: readonly unknown[],
  start: number,
): Snapshot | undefined {
  const registry = base.registry;
  let bound = base.bytes.length + 8;
  let chain = base.chain;
  if (chainNames !== null) {
    for (const name of chainNames) bound += stringBound(name);
    if (!sameNames(chainNames, base.chainNames)) chain = chainFromNames(chainNames);
  }
  const values = base.primitives.slice();
  const lazy = base.lazy;
  for (let i = 0; i < lazy.length; i++) {
    const definition = base.lazyDefinitions[i]!;
    putDeferred(
      values,
      definition.index,
      new WireValue(base.bytes, lazy[i]!, definition, warnDropped),
    );
  }
  let opaque = base.opaque;
  let entries = base.entries.length;
  for (let i = start; i < plain.length; i += 3) {
    const name = plain[i];
    const value = plain[i + 2];
    const size = plainDataSize(value);
    if (typeof name !== 'string' || name.length === 0 || size < 0) {
      throw malformed('a plain entry is not a name and plain data', 0);
    }
    const definition = registry.byName(name);
    if (
      definition === undefined ||
      definition.local ||
      definition.version !== plain[i + 1] ||
      definition.validate !== undefined
    ) {
      return undefined;
    }
    for (let j = start; j < i; j += 3) {
      if (plain[j] === name) throw malformed(`key '${name}' appears twice`, 0);
    }
    if (!base.byName.has(name)) entries++;
    else if (opaque !== null) opaque = withoutEntry(opaque, name);
    putEntry(values, definition.index, value);
    bound += entryBound(name, size);
  }
  if (bound > runtime.maxContextSize || entries > DEFAULT_WIRE_LIMITS.maxEntries) return undefined;
  return new Snapshot(values, chain, opaque);
}

/** `opaque` without the entry named `name` (the array itself when it has none). */
function withoutEntry(opaque: OpaqueEntry[], name: string): OpaqueEntry[] {
  for (let i = 0; i < opaque.length; i++) {
    if (opaque[i]!.name === name) return opaque.filter((entry) => entry.name !== name);
  }
  return opaque;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The whole message a delta stands for: base's entries not named by the change, then the
 * changed ones (a name repeated within the change stays repeated, so decoding refuses it).
 */
function mergedMessage(
  base: ReceivedBase,
  chainNames: readonly string[] | null,
  changes: unknown,
  plain: readonly unknown[],
  start: number,
): Uint8Array {
  let changeBytes: Uint8Array | null = null;
  let changed: readonly RawEntry[] = [];
  if (changes !== null) {
    changeBytes = inputBytes(changes, runtime.maxContextSize);
    changed = parseContext(changeBytes, DEFAULT_WIRE_LIMITS).entries;
  }
  const names = new Set<string>();
  for (const entry of changed) names.add(entry.name);
  for (let i = start; i < plain.length; i += 3) {
    const name = plain[i];
    const version = plain[i + 1];
    if (typeof name !== 'string' || name.length === 0 || plainDataSize(plain[i + 2]) < 0) {
      throw malformed('a plain entry is not a name and plain data', 0);
    }
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
      throw malformed(`the version of '${name}' is not an unsigned integer`, 0);
    }
    names.add(name);
  }
  const writer = new ByteWriter(base.bytes.length + (changeBytes?.length ?? 0) + 64);
  writer.u8(FORMAT_VERSION);
  const chain = chainNames ?? base.chainNames;
  writer.arrayHeader(chain.length);
  for (const name of chain) writer.str(name);
  const kept = base.entries.filter((entry) => !names.has(entry.name));
  writer.arrayHeader((kept.length + changed.length + (plain.length - start) / 3) * 3);
  for (const entry of kept) writer.raw(base.bytes.subarray(entry.start, entry.end));
  for (const entry of changed) writer.raw(changeBytes!.subarray(entry.start, entry.end));
  for (let i = start; i < plain.length; i += 3) {
    writer.str(plain[i] as string);
    writer.uint(entryHeader(plain[i + 1] as number, CodecTag.msgpack));
    writePlain(writer, plain[i + 2], Number.POSITIVE_INFINITY);
  }
  return writer.take();
}
