import { DContextError } from '../errors.js';
import { describeValue } from '../registry/registry.js';
import { Snapshot } from './snapshot.js';

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

/** `snapshot`, checked to be a `Snapshot` (`INVALID_ARGUMENT` otherwise) for `verb`. */
export function requireSnapshot(snapshot: unknown, verb: string): Snapshot {
  if (snapshot instanceof Snapshot) return snapshot;
  throw new DContextError(
    'INVALID_ARGUMENT',
    `${verb} needs a Snapshot (from snapshot(), deserialize() or Snapshot.empty()), got ${describeValue(snapshot)}`,
  );
}

/** `fn`, checked to be a function (`INVALID_ARGUMENT` otherwise) for `verb`. */
export function requireFunction<F>(fn: F, verb: string): F {
  if (typeof fn === 'function') return fn;
  throw new DContextError('INVALID_ARGUMENT', `${verb} needs a function, got ${describeValue(fn)}`);
}
