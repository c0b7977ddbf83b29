/**
 * A context in the form that crosses into another thread (worker environment data, messages,
 * pool tasks). Registered non-local keys, the scope chain and opaque entries travel in the wire
 * format, so the receiving thread decodes what its own registry has registered and forwards
 * unknown keys unchanged, exactly as across processes. They travel as its string form
 * (base64url): structured clone copies a short string about ten times faster than a
 * `Uint8Array`, whose clone allocates a new backing store. Local-only keys never go on the wire;
 * they travel by name, as values for the channel to structured-clone.
 *
 * Most contexts a thread sends differ from one it sent shortly before in a few keys: each
 * request sets its own id on top of the same tenant, user and flags. Encoding every context in
 * full (and decoding it on the other side) was most of what carrying a new context per task
 * cost. So a context is sent as a *base*, the full encoding of a context sent earlier, plus a
 * *delta*: its scope chain when that differs, and the keys whose values differ from the base's.
 * A changed value that structured clone carries exactly as the wire format would (plain data of
 * a MessagePack key: ids, numbers, flags, plain objects; see plain-data.ts) goes as it is, by
 * name and key version, with nothing to encode or decode; any other goes in a small wire-format
 * part. The base string is the same for many messages: the receiver prepares it once (see
 * received-bases.ts) and applies each delta to it (see `decodeDelta`). A value counts as
 * unchanged when it is the same primitive, or an object equal as plain data to what the base
 * encoded (so an object changed in place is sent again): the receiver gets exactly what a full
 * encoding would have carried, each message its own decoded objects.
 */
import { currentRegistry } from '../registry/registry.js';
import { OPAQUE, type Snapshot } from '../store/snapshot.js';
import { encodeSnapshotToString } from '../wire/encode.js';
import { decodeDelta, type ReceivedDelta } from './apply-delta.js';
import { encodeDelta } from './delta.js';
import { localEntries, withLocalValues } from './local-values.js';
import { receivedBase } from './received-bases.js';
import { lastSentBase, newSentBase } from './sent-base.js';
import type { ContextTransfer, LocalEntries } from './transfer-shape.js';

export { type ContextTransfer, isTransfer, type LocalEntries } from './transfer-shape.js';

const NOTHING_CHANGED: ReceivedDelta = { chainNames: null, changes: null, plain: [], start: 0 };

/**
 * `snapshot` in transferable form. Throws `NOT_CLONEABLE` (naming the key) when a local-only
 * value cannot be structured-cloned, and the wire errors of `serialize`, before anything is sent.
 */
export function toTransfer(snapshot: Snapshot): ContextTransfer {
  const registry = currentRegistry();
  const current = lastSentBase();
  let delta: unknown[] | undefined;
  if (current !== null && current.registry === registry && current.opaque === snapshot[OPAQUE]) {
    delta = encodeDelta(snapshot, current, registry);
  }
  let wire: string;
  if (delta === undefined) wire = newSentBase(snapshot, registry).wire;
  else {
    wire = current!.wire;
    // Nothing changed: the base itself, which the receiver may have decoded already.
    if (delta.length === 2 && delta[0] === null && delta[1] === null) delta = undefined;
  }
  // Nothing is cached by slot array: a value can change in place without `set` (an object
  // mutated), so every send compares against the base and re-checks local values' cloneability.
  return { wire, delta: delta ?? null, local: localEntries(snapshot, registry) };
}

/**
 * `snapshot` in transferable form, encoded in full (no delta, and the sent base is left as it
 * is): for a receiver that reads it once, with `deserialize` (a worker adopting its spawner's
 * context). Throws as {@link toTransfer}.
 */
export function toFullTransfer(snapshot: Snapshot): ContextTransfer {
  const registry = currentRegistry();
  const wire = encodeSnapshotToString(snapshot);
  return { wire, delta: null, local: localEntries(snapshot, registry) };
}

/**
 * The snapshot a transfer carries, decoded against this thread's registry: registered keys
 * decode (lazily), unknown ones stay opaque, local values are matched by name. A local value
 * whose name is not registered here, or that fails the key's `validate`, is left out.
 */
export function fromTransfer(transfer: ContextTransfer): Snapshot {
  return snapshotOf(transfer.wire, transfer.delta ?? null, transfer.local, 0);
}

/**
 * {@link fromTransfer} of the parts of a transfer, with the delta's items in `delta` from index
 * `at` (the envelope carries them inline).
 */
export function snapshotOf(
  wire: string,
  delta: readonly unknown[] | null,
  local: LocalEntries | null,
  at: number,
): Snapshot {
  // A full context is its own base with nothing changed: built the same way, so no decoded
  // object is ever shared between two messages (two requests can send identical bytes).
  const received =
    delta === null
      ? decodeDelta(receivedBase(wire), NOTHING_CHANGED)
      : decodeDelta(receivedBase(wire), {
          chainNames: delta[at],
          changes: delta[at + 1],
          plain: delta,
          start: at + 2,
        });
  return withLocalValues(received, local);
}
