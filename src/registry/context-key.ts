import { get, set } from '../context-api.js';
import type { RegistryBuilder } from './builder.js';
import { type KeyOptions, NO_SLOT, SLOT } from './types.js';

/**
 * A typed handle on a context key. The type parameter flows from the key to `get` and `set`.
 *
 * Keys are usually defined once, statically, and registered before `initialize`:
 * @example
 * export const requestId = new ContextKey<string>('request_id');
 * requestId.registerOn(builder);
 * // later, inside a scope
 * requestId.set('req-1'); requestId.get(); // 'req-1'
 */
export class ContextKey<T> {
  /** The registered name; what crosses the wire. */
  readonly name: string;
  /** The options this key registers with. */
  readonly options: Readonly<KeyOptions<T>>;
  /**
   * This object's slot in the current registry, or `NO_SLOT`. Only `initialize` sets it, on the
   * key objects it registers (and a test reset clears it), so the hot read trusts it without
   * checking which registry it came from.
   * @internal
   */
  [SLOT]: number = NO_SLOT;

  constructor(name: string, options: KeyOptions<T> = {}) {
    this.name = name;
    this.options = options;
  }

  /** Registers this key on `builder` (same as `builder.register(name, options)`), returning it. */
  registerOn(builder: RegistryBuilder): this {
    builder.add(this);
    return this;
  }

  /** The value in the current context (see the top-level `get` for which store is read). */
  get(): T | undefined {
    return get(this);
  }

  /** Sets the value in the current scope. Throws `NO_ACTIVE_SCOPE` outside any scope. */
  set(value: T): void {
    set(this, value);
  }

  toString(): string {
    return `ContextKey(${this.name})`;
  }
}
