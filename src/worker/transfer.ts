/**
 * A context in the form that crosses into another thread (worker environment data, messages,
 * pool tasks). Registered non-local keys, the scope chain and opaque entries travel in the wire
 * format, so the receiving thread decodes what its own registry has registered and forwards
 * unknown keys unchanged, exactly as across processes. They travel as its string form
 * (base64url): structured clone copies a short string about ten times faster than a
 * `Uint8Array`, whose clone allocates a new backing store. Local-only keys never go on the wire;
 * they travel by name, as values for the channel to structured-clone.
 */
import { DContextError } from '../errors.js';
import { currentRegistry } from '../registry/registry.js';
import { fitToRegistry, readSlot, validateValue } from '../store/frame.js';
import { Snapshot } from '../store/snapshot.js';
import { serializeToString } from '../wire/api.js';
import { decodeWire } from './decode-cache.js';

/** Local-only values, as `[key name, value]` pairs. */
export type LocalEntries = readonly (readonly [string, unknown])[];

/** A context ready for `postMessage` (or any other structured-clone channel). */
export interface ContextTransfer {
  /** The wire format's string form: non-local values, scope chain, opaque entries. */
  readonly wire: string;
  /** Local-only values by key name, or null when none is set. */
  readonly local: LocalEntries | null;
}

interface CachedTransfer {
  readonly chain: Snapshot['chain'];
  readonly opaque: Snapshot['opaque'];
  readonly transfer: ContextTransfer;
}

/**
 * Transfers by slot array. A captured slot array is never written again (copy-on-write), so
 * every task a request submits from the same scope reuses one encoding; the cloneability check
 * of local values also runs once per array.
 */
const cache = new WeakMap<unknown[], CachedTransfer>();

/**
 * `snapshot` in transferable form. Throws `NOT_CLONEABLE` (naming the key) when a local-only
 * value cannot be structured-cloned, and the wire errors of `serialize`, before anything is sent.
 */
export function toTransfer(snapshot: Snapshot): ContextTransfer {
  const cached = cache.get(snapshot.values);
  if (
    cached !== undefined &&
    cached.chain === snapshot.chain &&
    cached.opaque === snapshot.opaque
  ) {
    return cached.transfer;
  }
  const transfer: ContextTransfer = {
    wire: serializeToString(snapshot),
    local: localEntries(snapshot),
  };
  cache.set(snapshot.values, { chain: snapshot.chain, opaque: snapshot.opaque, transfer });
  return transfer;
}

function localEntries(snapshot: Snapshot): LocalEntries | null {
  const definitions = currentRegistry().definitions;
  const values = snapshot.values;
  let entries: [string, unknown][] | null = null;
  for (let i = 0; i < Math.min(definitions.length, values.length); i++) {
    const definition = definitions[i]!;
    if (!definition.local) continue;
    const value = readSlot(values, i);
    if (value === undefined) continue;
    assertCloneable(definition.name, value);
    (entries ??= []).push([definition.name, value]);
  }
  return entries;
}

function assertCloneable(name: string, value: unknown): void {
  try {
    structuredClone(value);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new DContextError(
      'NOT_CLONEABLE',
      `the local-only key '${name}' holds a value that cannot be structured-cloned into another thread (${detail}); set a cloneable value (no functions, sockets or class instances with private state) or leave it unset for the cross-thread call`,
      name,
      { cause },
    );
  }
}

/** Whether `value` has the shape of a {@link ContextTransfer} (from another thread: untrusted). */
export function isTransfer(value: unknown): value is ContextTransfer {
  if (typeof value !== 'object' || value === null) return false;
  const { wire, local } = value as { wire?: unknown; local?: unknown };
  return typeof wire === 'string' && (local === null || Array.isArray(local));
}

/**
 * The snapshot a transfer carries, decoded against this thread's registry: registered keys
 * decode (lazily), unknown ones stay opaque, local values are matched by name. A local value
 * whose name is not registered here, or that fails the key's `validate`, is left out.
 */
export function fromTransfer(transfer: ContextTransfer): Snapshot {
  const received = decodeWire(transfer.wire);
  if (transfer.local === null || transfer.local.length === 0) return received;
  const registry = currentRegistry();
  const values = fitToRegistry(received.values).slice();
  for (const entry of transfer.local) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const definition = registry.byName(entry[0]);
    if (definition === undefined) continue;
    try {
      validateValue(definition, entry[1]);
    } catch {
      continue;
    }
    values[definition.index] = entry[1];
  }
  return new Snapshot(values, received.chain, received.opaque);
}
