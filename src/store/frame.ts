/**
 * The hot path: reading a key, writing one, entering a scope. Both stores and the top-level verbs
 * touch values through this module only.
 *
 * A frame is one scope. `values` has one slot per registered key, so a read is `values[slot]`:
 * O(1) whatever the scope depth or the number of keys. A child frame shares its parent's array;
 * the first write in a frame copies it (copy-on-write). Invariant: an array is mutated in place
 * only by a frame with `owned === true`, and such an array is referenced by that frame alone;
 * whenever an array gets a second reference (a child scope, a snapshot) the source frame's
 * `owned` is cleared, so its next write copies. A slot never holds an undecoded wire entry (see
 * deferred-entries.ts), so a value found in a slot is the answer.
 */
import { runtime } from '../internal/runtime.js';
import { installKeyAccess, type KeyRef } from '../registry/context-key.js';
import { requireDefinition } from '../registry/registry.js';
import { type KeyDefinition, SLOT } from '../registry/types.js';
import { clearDeferred, fitToRegistry, readDeferred } from './deferred-entries.js';
import { type Frame, newFrame, type OpaqueEntry } from './frame-shape.js';
import { appendToChain, type ChainNode } from './scope-chain.js';
import type { VariableNode } from './variable-map.js';
import { noActiveScope, validateValue } from './write-checks.js';

// Read once: the ALS instance never changes for the life of the process.
const als = runtime.als;

/** The frame the top-level verbs use: the async scope's if one is active, else the sync stack's. */
export function activeFrame(): Frame {
  return als.getStore() ?? runtime.syncCurrent;
}

/** A new child frame of `parent`, sharing its values until either writes. */
export function childFrame(parent: Frame, name: string | undefined): Frame {
  parent.owned = false; // the array now has two references
  const chain = name === undefined ? parent.chain : appendToChain(parent.chain, name);
  return newFrame(parent.values, chain, parent.opaque, false, parent.foreign, parent.variables);
}

/**
 * A new unnamed child frame of `parent` carrying `foreign` and `variables` in place of the
 * parent's (dcontext/otel's `with`, an AsyncContext variable's `run`).
 */
export function unnamedChildFrame(
  parent: Frame,
  foreign: unknown,
  variables: VariableNode | null,
): Frame {
  parent.owned = false; // the array now has two references
  return newFrame(parent.values, parent.chain, parent.opaque, false, foreign, variables);
}

/** A new frame over captured state (a snapshot), sized to the current registry. */
export function frameFrom(
  values: unknown[],
  chain: ChainNode | null,
  opaque: readonly OpaqueEntry[] | null,
  foreign: unknown,
  variables: VariableNode | null,
): Frame {
  return newFrame(fitToRegistry(values), chain, opaque, false, foreign, variables);
}

/**
 * The value of `key` in `values` (its default when unset): the read behind every `get`, small so
 * V8 inlines it. A key object's slot is set only while it is registered in the current registry
 * (`NO_SLOT`, past the end of every array, otherwise); names, unset keys, deferred entries and
 * errors take the full path.
 */
export function readKey(values: unknown[], key: KeyRef): unknown {
  if (typeof key !== 'string') {
    const value = values[key?.[SLOT]]; // `?.`: null must reach INVALID_ARGUMENT, not a TypeError
    if (value !== undefined) return value;
  }
  return readValue(values, requireDefinition(key));
}

/** The raw value in slot `index` (decoding a deferred entry on first read), or undefined. */
export function readSlot(values: unknown[], index: number): unknown {
  const value = values[index];
  return value !== undefined ? value : readDeferred(values, index);
}

/** The value of `definition` in `values`, or its default when unset. */
export function readValue(values: unknown[], definition: KeyDefinition): unknown {
  const value = readSlot(values, definition.index);
  if (value !== undefined) return value;
  return definition.defaultValue === undefined ? undefined : definition.defaultValue();
}

/** Writes `value` (undefined clears the slot) into `frame`, copying its values first if shared. */
export function writeSlot(frame: Frame, definition: KeyDefinition, value: unknown): void {
  if (frame.isRoot) throw noActiveScope(frame, definition.name);
  validateValue(definition, value);
  if (!frame.owned) {
    frame.values = frame.values.slice();
    frame.owned = true;
  }
  frame.values[definition.index] = value;
  clearDeferred(frame.values, definition.index); // a deleted key must stay deleted
}

/** `get(key)` of the top-level verbs and of `key.get()`. */
export function readActive(key: KeyRef): unknown {
  // activeFrame() written out: each inlined call to a module function costs a load and a compare
  return readKey((als.getStore() ?? runtime.syncCurrent).values, key);
}

/** `set(key, value)` of the top-level verbs and of `key.set()`. */
export function writeActive(key: KeyRef, value: unknown): void {
  writeSlot(activeFrame(), requireDefinition(key), value);
}

installKeyAccess(readActive, writeActive);
