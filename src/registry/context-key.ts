import { DContextError } from '../errors.js';
import type { RegistryBuilder } from './builder.js';
import { type KeyOptions, NO_SLOT, SLOT } from './types.js';

/**
 * How `key.get()` / `key.set()` reach the active store without this layer importing the layers
 * above it: the store layer installs its read and write here when it loads (store/frame.ts).
 * Plain module variables set once, so each call site sees one target and V8 inlines it.
 */
let readActive: (key: KeyRef) => unknown = storeNotLoaded;
let writeActive: (key: KeyRef, value: unknown) => void = storeNotLoaded;

function storeNotLoaded(): never {
  throw new DContextError(
    'NOT_INITIALIZED',
    "dcontext's store is not loaded: import ContextKey from 'dcontext', not from an internal path",
  );
}

/**
 * @internal Called once by the store layer as it loads: the read and write of the active store
 * (the async scope's frame if one is active, else the sync stack's).
 */
export function installKeyAccess(
  read: (key: KeyRef) => unknown,
  write: (key: KeyRef, value: unknown) => void,
): void {
  readActive = read;
  writeActive = write;
}

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
export class ContextKey<T, HasDefault extends boolean = false> {
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

  /**
   * A key of values of type `T`. `HasDefault` is `true` for a key with a `default` (reads then
   * give `T`, never `undefined`), and the options must then have one.
   */
  constructor(
    name: string,
    ...[options]: HasDefault extends true ? [KeyOptions<T> & WithDefault<T>] : [KeyOptions<T>?]
  ) {
    this.name = name;
    this.options = options ?? {};
  }

  /** Registers this key on `builder` (same as `builder.register(name, options)`), returning it. */
  registerOn(builder: RegistryBuilder): this {
    builder.add(this);
    return this;
  }

  /** The value in the current context (see the top-level `get` for which store is read). */
  get(): HasDefault extends true ? T : T | undefined {
    return readActive(this as KeyRef) as HasDefault extends true ? T : T | undefined;
  }

  /**
   * Sets the value in the current scope (`undefined` unsets it). Throws `NO_ACTIVE_SCOPE` outside
   * any scope.
   */
  set(value: T | undefined): void {
    writeActive(this as KeyRef, value);
  }

  toString(): string {
    return `ContextKey(${this.name})`;
  }
}

/** Key options that include a `default`: the key's reads are then never `undefined`. */
export interface WithDefault<T> {
  default: () => T;
}

/**
 * A `ContextKey` or the name of a registered key. Reads and writes by key object are typed by
 * the key; by name they are `unknown`.
 */
export type KeyRef = ContextKey<unknown, boolean> | string;

/** What a read of `K` gives: `T` for a key with a default, `T | undefined` for one without, `unknown` by name. */
export type ValueRead<K> =
  K extends ContextKey<infer T, infer HasDefault>
    ? HasDefault extends true
      ? T
      : T | undefined
    : unknown;

/**
 * What may be written to `K`: its value type `T`, or `unknown` by name. For a union of keys, a
 * value every one of them takes (the intersection of their types): the key written is not known.
 */
export type ValueWritten<K> = (
  K extends ContextKey<infer T, boolean>
    ? (value: T) => void
    : (value: unknown) => void
) extends (value: infer V) => void
  ? V
  : never;
