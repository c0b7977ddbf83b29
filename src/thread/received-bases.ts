/**
 * The receiving side prepares each base context once: contexts arrive as a base string (shared by
 * many messages: the tasks of one request, and of requests that differ only in a few keys) plus
 * their own changes (see transfer.ts). Only the prepared base is reused; every message gets its
 * own snapshot, and objects are decoded afresh for each, so two requests that happen to send
 * identical bytes never share a mutable value.
 */
import { runtime } from '../internal/runtime.js';
import type { Registry } from '../registry/registry.js';
import { prepareReceivedBase, type ReceivedBase } from './received-base.js';

interface Prepared {
  readonly wire: string;
  readonly registry: Registry | null;
  readonly base: ReceivedBase;
}

// A few entries: tasks of concurrent requests interleave, but a request's tasks arrive together.
const SIZE = 4;
const recent: (Prepared | undefined)[] = new Array(SIZE).fill(undefined);
let next = 0;

/** `prepareReceivedBase(wire)`, reusing the base prepared for an identical recent input. */
export function receivedBase(wire: string): ReceivedBase {
  const registry = runtime.registry;
  for (const entry of recent) {
    if (entry !== undefined && entry.registry === registry && entry.wire === wire) {
      return entry.base;
    }
  }
  const base = prepareReceivedBase(wire);
  recent[next] = { wire, registry, base };
  next = (next + 1) % SIZE;
  return base;
}
