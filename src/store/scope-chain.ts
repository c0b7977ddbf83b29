import { runtime } from '../internal/runtime.js';

/**
 * The chain of named scopes as a persistent linked list: a child scope adds one node pointing at
 * its parent's, so entering a named scope is O(1) and frames/snapshots share their prefixes.
 */
export interface ChainNode {
  readonly name: string;
  readonly parent: ChainNode | null;
  readonly length: number;
}

/** `chain` with `name` appended, or `chain` itself when the cap is reached. */
export function appendToChain(chain: ChainNode | null, name: string): ChainNode | null {
  const length = chain === null ? 1 : chain.length + 1;
  if (length > runtime.maxScopeChainLength) return chain;
  return { name, parent: chain, length };
}

/** Builds a chain from names, outermost first (used for remote prefixes). */
export function chainFromNames(names: readonly string[]): ChainNode | null {
  let chain: ChainNode | null = null;
  for (const name of names) chain = appendToChain(chain, name);
  return chain;
}

/** The names from outermost to innermost. */
export function chainToArray(chain: ChainNode | null): string[] {
  if (chain === null) return [];
  const names = new Array<string>(chain.length);
  for (
    let node: ChainNode | null = chain, i = chain.length - 1;
    node !== null;
    node = node.parent
  ) {
    names[i--] = node.name;
  }
  return names;
}
