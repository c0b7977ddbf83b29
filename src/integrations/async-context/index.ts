/**
 * `dcontext/async-context`: the TC39 AsyncContext proposal's API, today, on dcontext's store.
 *
 * - `AsyncContext.Variable<T>({ name?, defaultValue?, key? })`: `get()`, `run(value, fn, ...args)`.
 * - `AsyncContext.Snapshot`: `new Snapshot()`, `run(fn, ...args)`, static `wrap(fn)`.
 *
 * Any number of variables share one AsyncLocalStorage with dcontext's typed keys; a snapshot
 * captures both in O(1). See docs/async-context.md.
 *
 * @example
 * import { AsyncContext } from 'dcontext/async-context';
 * const traceId = new AsyncContext.Variable<string>({ name: 'traceId' });
 */
export * as AsyncContext from './namespace.js';
export type { VariableOptions } from './variable.js';
