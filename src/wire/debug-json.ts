import { DContextError } from '../errors.js';
import { currentRegistry } from '../registry/registry.js';
import { readSlot } from '../store/frame.js';
import type { OpaqueEntry } from '../store/frame-shape.js';
import { OPAQUE, Snapshot, VALUES } from '../store/snapshot.js';
import { codecTag } from './codecs.js';
import { toDebugValue } from './debug-value.js';
import { CODEC_NAMES, FORMAT_VERSION } from './format.js';
import { describeEntry } from './inspect.js';
import { DEFAULT_WIRE_LIMITS, type WireLimits } from './limits.js';
import { parseEntry } from './parse.js';
import type { DebugEntry, DebugView } from './types.js';

// Opaque bytes were bounded when they arrived, maybe under larger limits than the defaults.
const NO_LIMITS: WireLimits = {
  ...DEFAULT_WIRE_LIMITS,
  maxStringLength: Number.MAX_SAFE_INTEGER,
  maxCollectionLength: Number.MAX_SAFE_INTEGER,
  maxDepth: 1024,
};

/**
 * A readable, JSON-compatible view of a snapshot for logs and tests: the scope chain and, for
 * each key with a value (local-only keys included, flagged `local`), its name, version, codec
 * and value; entries held opaque are listed with `opaque` set to why. Reading a value decodes it
 * if it still waits from the wire.
 *
 * @example
 * logger.debug({ context: toDebugJSON(snapshot()) }, 'incoming');
 */
export function toDebugJSON(snapshot: Snapshot): DebugView {
  if (!(snapshot instanceof Snapshot)) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `toDebugJSON expects a Snapshot (from snapshot() or deserialize()) (got ${snapshot === null ? 'null' : typeof snapshot})`,
    );
  }
  const definitions = currentRegistry().definitions;
  const values = snapshot[VALUES];
  const entries: DebugEntry[] = [];
  for (let i = 0; i < Math.min(values.length, definitions.length); i++) {
    const value = readSlot(values, i);
    if (value === undefined) continue;
    const definition = definitions[i]!;
    const entry: DebugEntry = {
      key: definition.name,
      version: definition.version,
      codec: CODEC_NAMES[codecTag(definition.codec)],
      value: toDebugValue(value),
    };
    entries.push(definition.local ? { ...entry, local: true } : entry);
  }
  for (const opaque of snapshot[OPAQUE] ?? []) entries.push(describeOpaque(opaque));
  return { format: FORMAT_VERSION, chain: snapshot.scopeChain, entries };
}

function describeOpaque(opaque: OpaqueEntry): DebugEntry {
  try {
    const view = describeEntry(opaque.raw, parseEntry(opaque.raw, NO_LIMITS));
    return { ...view, opaque: opaque.reason };
  } catch {
    const codec = CODEC_NAMES[3];
    return { key: opaque.name, version: opaque.version, codec, opaque: opaque.reason };
  }
}
