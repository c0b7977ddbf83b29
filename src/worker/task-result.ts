/**
 * How `runWithContext` tells a task function wrapped with `withTaskContext` from a plain one (which
 * would silently receive dcontext's envelope as its task). Until a pool has returned one marked
 * result, its tasks go with `CHECKED_TASK_TAG` and a wrapped function returns their results
 * marked; an unmarked result means a plain function ran the task, and `runWithContext` rejects
 * with `TASK_NOT_WRAPPED`. Once a result came back marked, the pool (for that task file and
 * export) is known, and later tasks go unmarked: nothing is added per task after the first.
 */

/** Marks a result (a string: symbols do not survive structured clone). */
const RESULT_TAG = '@@dcontext:result';

// Piscina's public symbols for `Piscina.move(value)`.
const TRANSFERABLE = Symbol.for('Piscina.transferable');
const VALUE = Symbol.for('Piscina.valueOf');

/**
 * `result`, marked as coming from a wrapped task function: `[tag, result]`. A result made with
 * `Piscina.move(value)` keeps its form (Piscina moves it only at the top level): its value is
 * marked instead.
 */
export function markResult(result: unknown): unknown {
  if (isMoved(result)) {
    const value = result[VALUE];
    Object.defineProperty(result, VALUE, { value: [RESULT_TAG, value], configurable: true });
    return result;
  }
  return [RESULT_TAG, result];
}

/** Whether `result` was marked by {@link markResult}. */
export function isMarkedResult(result: unknown): result is readonly [string, unknown] {
  return Array.isArray(result) && result.length === 2 && result[0] === RESULT_TAG;
}

/** Whether `value` was made by `Piscina.move` (Piscina's mark is a private symbol: found by name). */
function isMoved(value: unknown): value is Record<symbol, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  if (!(TRANSFERABLE in value && VALUE in value) || !Object.isExtensible(value)) return false;
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (symbol.description === 'Piscina.kMovable') {
      return (value as Record<symbol, unknown>)[symbol] === true;
    }
  }
  return false;
}

/** What a pool is known to run wrapped: its default task function, and other files or exports. */
interface Checked {
  default: boolean;
  others: Set<string> | null;
}

const checkedPools = new WeakMap<object, Checked>();

/** The task function `options` selects on a pool (Piscina's `filename` and `name` options). */
function selection(options: unknown): string | null {
  if (typeof options !== 'object' || options === null) return null;
  const { filename, name } = options as { filename?: unknown; name?: unknown };
  if (filename == null) {
    if (name == null) return null;
    if (typeof name === 'string') return name; // no string built per task for the usual case
  }
  return `\u0001${String(filename)}\u0000${String(name)}`;
}

/** Whether the task function `options` selects on `pool` is known to be wrapped. */
export function isCheckedPool(pool: object, options: unknown): boolean {
  const checked = checkedPools.get(pool);
  if (checked === undefined) return false;
  const selected = selection(options);
  return selected === null ? checked.default : (checked.others?.has(selected) ?? false);
}

/** Records that the task function `options` selects on `pool` returned a marked result. */
export function markPoolChecked(pool: object, options: unknown): void {
  let checked = checkedPools.get(pool);
  if (checked === undefined) checkedPools.set(pool, (checked = { default: false, others: null }));
  const selected = selection(options);
  if (selected === null) checked.default = true;
  else (checked.others ??= new Set()).add(selected);
}
