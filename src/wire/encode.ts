/**
 * A `Snapshot` into wire bytes. Entries still undecoded since they arrived (`WireValue`) and
 * opaque entries are copied byte for byte; everything else is encoded with its key's codec.
 */
import { causeText, DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import type { KeyDefinition } from '../registry/types.js';
import { DeferredValue } from '../store/deferred.js';
import { entryAt } from '../store/deferred-entries.js';
import { readSlot } from '../store/frame.js';
import type { OpaqueEntry } from '../store/frame-shape.js';
import { chainToArray } from '../store/scope-chain.js';
import { CHAIN, OPAQUE, type Snapshot, VALUES } from '../store/snapshot.js';
import { codecTag, writePayload } from './codecs.js';
import { entryHeader, FORMAT_VERSION } from './format.js';
import { tooLarge } from './limits.js';
import { type HmacKey, tagOf } from './signature.js';
import { WireValue } from './wire-value.js';
import { ByteWriter, RawRun } from './writer.js';

const sharedWriter = new ByteWriter();
let writerInUse = false;

/**
 * Slot indices of the values to write: set, not local-only, not dropped on decoding, and among
 * `keys` when given.
 */
function collect(
  snapshot: Snapshot,
  definitions: readonly KeyDefinition[],
  keys: ReadonlySet<string> | undefined,
): number[] {
  const values = snapshot[VALUES];
  const indices: number[] = [];
  const count = Math.min(values.length, definitions.length);
  for (let i = 0; i < count; i++) {
    let value = entryAt(values, i);
    const definition = definitions[i]!;
    if (value === undefined || definition.local) continue;
    if (keys !== undefined && !keys.has(definition.name)) continue;
    if (value instanceof WireValue) {
      if (!value.pending) value = value.resolve();
    } else if (value instanceof DeferredValue) {
      value = readSlot(values, i);
    }
    if (value !== undefined) indices.push(i);
  }
  return indices;
}

const NONE: readonly OpaqueEntry[] = [];

/**
 * The opaque entries to send on (those among `keys`, when given); a newer-version entry of a key
 * set here since is replaced.
 */
function forwardedEntries(
  snapshot: Snapshot,
  registry: Registry,
  keys: ReadonlySet<string> | undefined,
): readonly OpaqueEntry[] {
  return (snapshot[OPAQUE] ?? NONE).filter((entry) => {
    if (keys !== undefined && !keys.has(entry.name)) return false;
    const definition = registry.byName(entry.name);
    return definition === undefined || entryAt(snapshot[VALUES], definition.index) === undefined;
  });
}

// Per registry, each key's name and entry header as bytes: the same for every message.
const prefixCache = new WeakMap<Registry, Uint8Array[]>();

function entryPrefix(
  registry: Registry,
  prefixes: Uint8Array[],
  definition: KeyDefinition,
): Uint8Array {
  const writer = new ByteWriter(definition.name.length + 16);
  writer.str(definition.name);
  writer.uint(entryHeader(definition.version, codecTag(definition.codec)));
  const prefix = writer.take();
  prefixes[definition.index] = prefix;
  prefixCache.set(registry, prefixes);
  return prefix;
}

function encodeFailed(definition: KeyDefinition, cause: unknown): DContextError {
  const detail = causeText(cause);
  return new DContextError(
    'ENCODE_FAILED',
    `cannot serialize '${definition.name}': ${detail}`,
    definition.name,
    { cause },
  );
}

/**
 * Where each slot's entry lies in an encoded message, for callers that reuse parts of it (the
 * cross-thread transfer sends only the entries that changed since a message it sent before).
 */
export interface EncodedLayout {
  /** `[slot, start, end]` per written entry of a registered key, in order; `end` is exclusive. */
  readonly slots: number[];
  /** Entries in the message: registered keys plus forwarded opaque entries. */
  entries: number;
  /** Where the first entry starts (after the format byte, the scope chain and the list header). */
  start: number;
}

/** Serializes `snapshot`; throws `CONTEXT_TOO_LARGE` or `ENCODE_FAILED` and returns nothing then. */
export function encodeSnapshot(
  snapshot: Snapshot,
  layout?: EncodedLayout,
  options: EncodeOptions = ALL_KEYS,
): Uint8Array {
  return encodeWith(snapshot, layout, takeBytes, options);
}

/** What to encode besides the snapshot: a signing key, and the keys to send (undefined: all). */
export interface EncodeOptions {
  readonly signingKey: HmacKey | undefined;
  readonly keys: ReadonlySet<string> | undefined;
}

const ALL_KEYS: EncodeOptions = { signingKey: undefined, keys: undefined };

/**
 * `toBase64Url(encodeSnapshot(snapshot))`, without the intermediate copy of the bytes: the string
 * is made straight from the encoder's buffer.
 */
export function encodeSnapshotToString(
  snapshot: Snapshot,
  options: EncodeOptions = ALL_KEYS,
): string {
  return encodeWith(snapshot, undefined, takeBase64Url, options);
}

const takeBytes = (writer: ByteWriter): Uint8Array => writer.take();
const takeBase64Url = (writer: ByteWriter): string => writer.takeBase64Url();

function encodeWith<R>(
  snapshot: Snapshot,
  layout: EncodedLayout | undefined,
  take: (writer: ByteWriter) => R,
  { signingKey, keys }: EncodeOptions,
): R {
  const registry = currentRegistry();
  const definitions = registry.definitions;
  const limit = runtime.maxContextSize;
  // A custom codec may serialize another context from inside encode(): give it its own writer.
  const writer = writerInUse ? new ByteWriter() : sharedWriter;
  const owner = writer === sharedWriter;
  if (owner) writerInUse = true;
  try {
    writer.reset();
    writer.u8(FORMAT_VERSION);
    const names = chainToArray(snapshot[CHAIN]);
    writer.arrayHeader(names.length);
    for (const name of names) writer.str(name);

    const indices = collect(snapshot, definitions, keys);
    const prefixes = prefixCache.get(registry) ?? [];
    const values = snapshot[VALUES];
    const forwarded = snapshot[OPAQUE] === null ? NONE : forwardedEntries(snapshot, registry, keys);
    writer.arrayHeader((indices.length + forwarded.length) * 3);
    if (layout !== undefined) {
      layout.entries = indices.length + forwarded.length;
      layout.start = writer.pos;
    }
    const run = new RawRun();
    for (const index of indices) {
      const definition = definitions[index]!;
      const value = entryAt(values, index);
      const start = writer.pos + run.length;
      if (value instanceof WireValue && value.pending) {
        value.copyTo(run, writer);
      } else {
        run.flush(writer);
        const plain = value instanceof DeferredValue ? value.resolve() : value;
        writer.raw(prefixes[index] ?? entryPrefix(registry, prefixes, definition));
        try {
          writePayload(writer, plain, definition.codec);
        } catch (cause) {
          throw encodeFailed(definition, cause);
        }
      }
      if (writer.pos + run.length > limit)
        throw tooLarge(writer.pos + run.length, limit, 'serialize');
      layout?.slots.push(index, start, writer.pos + run.length);
    }
    for (const { raw } of forwarded) run.add(writer, raw, 0, raw.length);
    run.flush(writer);
    if (signingKey !== undefined) writer.bin(tagOf(signingKey, writer.bytes, writer.pos));
    if (writer.pos > limit) throw tooLarge(writer.pos, limit, 'serialize');
    return take(writer);
  } finally {
    if (owner) {
      writer.reset();
      writerInUse = false;
    }
  }
}
