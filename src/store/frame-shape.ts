/**
 * What a frame is, and the one place frame objects are built: every frame (root, child, from a
 * snapshot) then has one hidden class, so the hot read's `frame.values` load stays monomorphic.
 * A leaf module (no imports), so the runtime can build its root frame without a cycle.
 */
import type { ChainNode } from './scope-chain.js';
import type { VariableNode } from './variable-map.js';

/** Entries that arrived from the wire for keys this process cannot decode; forwarded as they are. */
export interface OpaqueEntry {
  readonly name: string;
  readonly version: number;
  /** The entry exactly as it was on the wire, re-emitted unchanged. */
  readonly raw: Uint8Array;
  /** Why it stays opaque: the key is not registered here, its version is newer, or its codec tag is unknown. */
  readonly reason: 'unknown-key' | 'newer-version' | 'unknown-codec';
}

/**
 * One scope: its slot values (shared until `owned`), its scope chain, its opaque entries, and the
 * context of another system that travels with it.
 */
export interface Frame {
  values: unknown[];
  owned: boolean;
  readonly chain: ChainNode | null;
  readonly opaque: readonly OpaqueEntry[] | null;
  readonly isRoot: boolean;
  /**
   * An opaque context of another system carried by this scope and inherited by its children
   * (the OpenTelemetry `Context` of `dcontext/otel`), or null. The core never reads it and never
   * serializes it: one AsyncLocalStorage then serves both systems.
   */
  readonly foreign: unknown;
  /** Values of `AsyncContext.Variable`s (dcontext/async-context): not registry keys, never on the wire. */
  readonly variables: VariableNode | null;
}

/** A frame over `values`, not owning them (its first write copies). */
export function newFrame(
  values: unknown[],
  chain: ChainNode | null,
  opaque: readonly OpaqueEntry[] | null,
  isRoot: boolean,
  foreign: unknown,
  variables: VariableNode | null,
): Frame {
  return { values, owned: false, chain, opaque, isRoot, foreign, variables };
}

/** A read-only root frame (what is read outside any scope): empty unless given values. */
export function rootFrame(
  values: unknown[] = [],
  chain: ChainNode | null = null,
  opaque: readonly OpaqueEntry[] | null = null,
  foreign: unknown = null,
): Frame {
  return newFrame(values, chain, opaque, true, foreign, null);
}
