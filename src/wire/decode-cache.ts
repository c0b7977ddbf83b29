/**
 * The receiving side prepares each base context once: contexts arrive as a base string (shared by
 * many messages: the tasks of one request, and of requests that differ only in a few keys) plus
 * their own changes (see transfer.ts). Only the parsed base is reused; every message gets its own
 * snapshot, and objects are decoded afresh for each, so two requests that happen to send
 * identical bytes never share a mutable value.
 */
import { runtime } from '../internal/runtime.js';
import type { Registry } from '../registry/registry.js';
import { type OverlayBase, prepareOverlayBase } from './decode.js';

interface Decoded {
  readonly wire: string;
  readonly registry: Registry | null;
  readonly base: OverlayBase;
}

// A few entries: tasks of concurrent requests interleave, but a request's tasks arrive together.
const SIZE = 4;
const recent: (Decoded | undefined)[] = new Array(SIZE).fill(undefined);
let next = 0;

function add(entry: Decoded): void {
  recent[next] = entry;
  next = (next + 1) % SIZE;
}

/** `prepareOverlayBase(wire)`, reusing the base prepared for an identical recent input. */
export function overlayBase(wire: string): OverlayBase {
  const registry = runtime.registry;
  for (const entry of recent) {
    if (entry !== undefined && entry.registry === registry && entry.wire === wire) {
      return entry.base;
    }
  }
  const base = prepareOverlayBase(wire);
  add({ wire, registry, base });
  return base;
}
