/**
 * Direct access to where Node 20 and 22 keep an AsyncLocalStorage's store, for the hot paths of
 * dcontext/async-context (see variable-scope.ts).
 *
 * There (the async_hooks implementation, the default before Node 24) `als.run(store, fn)` is, in
 * full: `if (store === als.getStore()) return fn(); als._enable(); const resource =
 * executionAsyncResource(); const previous = resource[als.kResourceStore]; resource[...] = store;
 * try { return fn() } finally { resource[...] = previous }`, and the async hook copies
 * `resource[kResourceStore]` onto every resource created meanwhile. Doing those same steps in
 * place reads the parent frame with the same lookup that enters the child, calls `fn` without
 * `run`'s rest-argument array and `Reflect.apply` (so V8 can inline it), and skips `run`'s own
 * `getStore()`: on Node 20, `Variable.run` + `get` went from ~4x a raw ALS `run` + `getStore` in
 * instructions to ~2x. Nothing else in the store depends on it.
 *
 * Used only where a probe through the public API shows it holds: a store entered by `als.run`
 * is `executionAsyncResource()[als.kResourceStore]`. Node 24 (AsyncContextFrame), Deno, Bun and
 * Node 22 with `--experimental-async-context-frame` have no `kResourceStore`: everything there
 * goes through `als.run`.
 */

import type { AsyncLocalStorage } from 'node:async_hooks';
import * as asyncHooks from 'node:async_hooks';
import type { Frame } from './frame-shape.js';

/** The current async resource, with the stores ALS keeps on it. */
export type ResourceWithStores = Record<symbol, Frame | undefined>;

/** What a direct entry needs; see {@link probeResourceStore}. */
export interface ResourceStore {
  /** The property of a resource that holds `als`'s store (`als.kResourceStore`). */
  readonly key: symbol;
  /** `async_hooks.executionAsyncResource`. */
  readonly current: () => ResourceWithStores;
}

interface NodeAlsInternals {
  readonly kResourceStore?: unknown;
  readonly enabled?: unknown;
}

/**
 * `als`'s resource store when this runtime keeps stores on async resources (Node 20 and 22),
 * else null. Enters `probe` with `als.run` once to check it (which also enables `als`).
 */
export function probeResourceStore(
  als: AsyncLocalStorage<Frame>,
  probe: Frame,
): ResourceStore | null {
  const key = (als as unknown as NodeAlsInternals).kResourceStore;
  const current = (asyncHooks as { executionAsyncResource?: unknown }).executionAsyncResource;
  if (typeof key !== 'symbol' || typeof current !== 'function') return null;
  const store: ResourceStore = { key, current: current as () => ResourceWithStores };
  const holds = als.run(
    probe,
    () => store.current()[key] === probe && als.getStore() === probe && isEnabled(als),
  );
  return holds ? store : null;
}

/**
 * Whether `als` is enabled (its async hook installed): a direct entry is valid only then, as
 * `run` would enable it first. True from the probe on, unless someone calls `als.disable()`.
 */
export function isEnabled(als: AsyncLocalStorage<Frame>): boolean {
  return (als as unknown as NodeAlsInternals).enabled === true;
}
