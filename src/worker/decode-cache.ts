/**
 * The receiving side's counterpart of the sender's encoding cache: the tasks and messages of one
 * request carry byte-identical context, so a worker decodes it once and reuses the snapshot.
 * Sharing is safe: a snapshot is immutable (each task enters it as a fresh scope), and its lazy
 * entries decode in place once for all. Values are then shared between the tasks of a request in
 * one worker, as they are between the scopes of a request in one thread.
 */
import { runtime } from '../internal/runtime.js';
import type { Registry } from '../registry/registry.js';
import type { Snapshot } from '../store/snapshot.js';
import { deserialize } from '../wire/api.js';

interface Decoded {
  readonly wire: string;
  readonly snapshot: Snapshot;
  readonly registry: Registry | null;
}

// A few entries: tasks of concurrent requests interleave, but a request's tasks arrive together.
const SIZE = 4;
const recent: (Decoded | undefined)[] = new Array(SIZE);
let next = 0;

/** `deserialize(wire)`, reusing the snapshot of an identical recent input. */
export function decodeWire(wire: string): Snapshot {
  const registry = runtime.registry;
  for (const entry of recent) {
    if (entry !== undefined && entry.registry === registry && entry.wire === wire) {
      return entry.snapshot;
    }
  }
  const snapshot = deserialize(wire);
  recent[next] = { wire, snapshot, registry };
  next = (next + 1) % SIZE;
  return snapshot;
}
