/**
 * The receiving side's counterpart of the sender's encoding cache: the tasks and messages of one
 * request carry byte-identical context, so a worker decodes it once and reuses the snapshot.
 * Sharing is safe: a snapshot is immutable (each task enters it as a fresh scope), and its lazy
 * entries decode in place once for all. Values are then shared between the tasks of a request in
 * one worker, as they are between the scopes of a request in one thread.
 *
 * A context sent as a difference from a base (see transfer.ts) names a base string that many
 * messages share: the base is prepared once (see `prepareOverlayBase`) and each message builds
 * its snapshot from it and its own delta.
 */
import { runtime } from '../internal/runtime.js';
import type { Registry } from '../registry/registry.js';
import type { Snapshot } from '../store/snapshot.js';
import { deserialize } from '../wire/api.js';
import { type OverlayBase, prepareOverlayBase } from '../wire/decode.js';

interface Decoded {
  readonly wire: string;
  readonly registry: Registry | null;
  readonly snapshot: Snapshot | undefined;
  readonly base: OverlayBase | undefined;
}

// A few entries: tasks of concurrent requests interleave, but a request's tasks arrive together.
const SIZE = 4;
const recent: (Decoded | undefined)[] = new Array(SIZE).fill(undefined);
let next = 0;

function add(entry: Decoded): void {
  recent[next] = entry;
  next = (next + 1) % SIZE;
}

/** `deserialize(wire)`, reusing the snapshot of an identical recent input. */
export function decodeWire(wire: string): Snapshot {
  const registry = runtime.registry;
  for (const entry of recent) {
    if (
      entry !== undefined &&
      entry.snapshot !== undefined &&
      entry.registry === registry &&
      entry.wire === wire
    ) {
      return entry.snapshot;
    }
  }
  const snapshot = deserialize(wire);
  add({ wire, registry, snapshot, base: undefined });
  return snapshot;
}

/** `prepareOverlayBase(wire)`, reusing the base prepared for an identical recent input. */
export function overlayBase(wire: string): OverlayBase {
  const registry = runtime.registry;
  for (const entry of recent) {
    if (
      entry !== undefined &&
      entry.base !== undefined &&
      entry.registry === registry &&
      entry.wire === wire
    ) {
      return entry.base;
    }
  }
  const base = prepareOverlayBase(wire);
  add({ wire, registry, snapshot: undefined, base });
  return base;
}
