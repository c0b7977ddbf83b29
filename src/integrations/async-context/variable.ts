// Internal modules rather than '../../index.js': this entry then bundles the store alone, not the
// wire format (a third of the package's size).
import { DContextError } from '../../errors.js';
import type { KeyRef } from '../../registry/context-key.js';
import { readActive } from '../../store/frame.js';
import { readVariable, runWithKeyValue, runWithVariable } from '../../store/variable-scope.js';

/** Options of `new AsyncContext.Variable(options)`. */
export interface VariableOptions<T> {
  /** A label for debugging (`variable.name`); the proposal's default is `''`. */
  name?: string | undefined;
  /** What `get()` returns where `run` has not bound the variable. */
  defaultValue?: T | undefined;
  /**
   * dcontext's extension: back the variable by a registered key (a `ContextKey` or its name), so
   * that its value is a typed key's value: serialized with the context, sent to workers, read by
   * `get(key)`. Such a variable takes the key's own `default` and `validate`; it needs
   * `initialize()` before `run` and `get`, and `defaultValue` is not accepted with it.
   */
  key?: KeyRef;
}

/**
 * A value that follows the async flow, as the TC39 AsyncContext proposal defines it: `run` binds
 * it for the duration of a function and everything that function schedules (promise reactions,
 * timers, callbacks registered inside see the value at registration time); `get` reads it. There
 * is no `set`.
 *
 * Any number of variables share dcontext's one AsyncLocalStorage, and may be created at any time
 * (before or after `initialize()`): they are not registry keys, and never leave the process
 * unless created with `key`.
 *
 * @example
 * const user = new AsyncContext.Variable<string>({ name: 'user', defaultValue: 'anonymous' });
 * await user.run('ada', async () => { await tick(); user.get(); }); // 'ada'
 */
export class Variable<T> {
  readonly #name: string;
  readonly #defaultValue: T | undefined;
  readonly #key: KeyRef | undefined;

  constructor(options?: VariableOptions<T>) {
    if (options === undefined) {
      this.#name = '';
      this.#defaultValue = undefined;
      this.#key = undefined;
      return;
    }
    if (typeof options !== 'object' || options === null) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        'new AsyncContext.Variable(options) takes an options object ({ name?, defaultValue?, key? })',
      );
    }
    const key = options.key;
    if (key !== undefined && !isKeyRef(key)) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        'AsyncContext.Variable: `key` must be a ContextKey or a registered key name',
      );
    }
    if (key !== undefined && options.defaultValue !== undefined) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        "AsyncContext.Variable: a variable backed by a key takes the key's own default; drop `defaultValue` or register the key with `default`",
        keyName(key),
      );
    }
    // `String(name)` unless undefined, as the proposal does; a key-backed variable is named after its key.
    const name: unknown = options.name;
    this.#name = name !== undefined ? String(name) : key === undefined ? '' : keyName(key);
    this.#defaultValue = options.defaultValue;
    this.#key = key;
  }

  /** The name given at construction (`''` when none). */
  get name(): string {
    return this.#name;
  }

  /**
   * Calls `fn(...args)` with this variable bound to `value`, and returns what it returns. The
   * binding holds in everything `fn` schedules, and ends when `fn` returns or throws.
   * Throws `INVALID_ARGUMENT` (running nothing) when `fn` is not a function.
   */
  run<A extends unknown[], R>(value: T, fn: (...args: A) => R, ...args: A): R {
    if (typeof fn !== 'function') {
      throw new DContextError(
        'INVALID_ARGUMENT',
        `AsyncContext.Variable${this.#name === '' ? '' : ` '${this.#name}'`}: run(value, fn) needs a function`,
      );
    }
    const key = this.#key;
    return key === undefined
      ? runWithVariable(this, value, fn, args)
      : runWithKeyValue(key, value, fn, args);
  }

  /** The value bound by the innermost enclosing `run`, else the default value. */
  get(): T | undefined {
    const key = this.#key;
    if (key !== undefined) return readActive(key) as T | undefined;
    return readVariable(this, this.#defaultValue) as T | undefined;
  }

  toString(): string {
    return `AsyncContext.Variable(${this.#name})`;
  }
}

/** A `ContextKey` of any build of dcontext (duck-typed: each build has its own class), or a name. */
function isKeyRef(value: unknown): value is KeyRef {
  if (typeof value === 'string') return value !== '';
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string'
  );
}

function keyName(key: KeyRef): string {
  return typeof key === 'string' ? key : key.name;
}
