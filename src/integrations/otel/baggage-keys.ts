/**
 * The keys bridged to W3C baggage: registered with `metadata: { baggage: '<name>' }`, not
 * local-only. Computed once per registry (frozen by `initialize()`, so once per process).
 */
import { type KeyInfo, registeredKeys } from '../../index.js';
import { isBaggageName } from './baggage.js';

/** One bridged key: its dcontext name and its baggage name. */
export interface BaggageKey {
  readonly key: string;
  readonly name: string;
}

let planFor: readonly KeyInfo[] | null = null;
let plan: readonly BaggageKey[] = [];

/** The bridged keys, in registration order. A `baggage` name that is not a token is ignored. */
export function baggageKeys(): readonly BaggageKey[] {
  const keys = registeredKeys();
  if (keys === planFor) return plan;
  const next: BaggageKey[] = [];
  for (const info of keys) {
    const name = info.metadata.baggage;
    if (!info.local && isBaggageName(name)) next.push({ key: info.name, name });
  }
  planFor = keys;
  plan = next;
  return plan;
}
