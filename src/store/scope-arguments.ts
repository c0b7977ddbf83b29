import { DContextError } from '../errors.js';

/**
 * The function of the `scope(fn)` / `scope(name, fn)` overloads, checked. Returns only the
 * function (the name is `typeof nameOrFn === 'string' ? nameOrFn : undefined`): scope entry is a
 * hot path, and a tuple would be one allocation per scope.
 */
export function scopeFunction<F>(nameOrFn: string | F, maybeFn: F | undefined): F {
  const fn = typeof nameOrFn === 'string' ? maybeFn : nameOrFn;
  if (typeof fn !== 'function') {
    throw new DContextError(
      'INVALID_ARGUMENT',
      typeof nameOrFn === 'string'
        ? `scope('${nameOrFn}', fn) needs a function`
        : 'scope(fn) / scope(name, fn) needs a function',
    );
  }
  return fn;
}

/** The scope name of the `scope(fn)` / `scope(name, fn)` overloads, if any. */
export function scopeName(nameOrFn: unknown): string | undefined {
  return typeof nameOrFn === 'string' ? nameOrFn : undefined;
}
