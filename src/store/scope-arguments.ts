import { DContextError } from '../errors.js';

/** Normalizes the `scope(fn)` / `scope(name, fn)` overloads. */
export function scopeArguments<F>(
  nameOrFn: string | F,
  maybeFn: F | undefined,
): [string | undefined, F] {
  if (typeof nameOrFn === 'string') {
    if (typeof maybeFn !== 'function') {
      throw new DContextError('INVALID_ARGUMENT', `scope('${nameOrFn}', fn) needs a function`);
    }
    return [nameOrFn, maybeFn];
  }
  if (typeof nameOrFn !== 'function') {
    throw new DContextError('INVALID_ARGUMENT', 'scope(fn) / scope(name, fn) needs a function');
  }
  return [undefined, nameOrFn];
}
