/**
 * The `slot` of a key object not registered in the current registry: an index past the end of
 * every slot array (and still a small integer for V8), so the hot read finds nothing there and
 * takes the full path, which resolves names and throws the right error.
 * @internal
 */
export const NO_SLOT = 0x3fffffff;

/**
 * The property a `ContextKey` keeps its slot under. A symbol, so that structured clone (a key
 * posted to another thread) does not copy it: a copy must resolve by name against the receiving
 * thread's registry, never trust a slot number from another. `Symbol.for`, so the ESM and CJS
 * builds share it.
 * @internal
 */
export const SLOT: unique symbol = Symbol.for('dcontext.key-slot');

/** A custom codec for a key's value on the wire (see the wire format docs). */
export interface ValueCodec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** How a key's value is written on the wire: MessagePack (default), superjson, or a custom codec. */
export type KeyCodec<T> = 'msgpack' | 'superjson' | ValueCodec<T>;

/** Options accepted by `register`, `registerLocal` and `new ContextKey`. */
export interface KeyOptions<T> {
  /** Called when the key is read and nothing is set; its result is returned (not stored). */
  default?: () => T;
  /** Runs on every `set` (and on values arriving from the wire); `false` rejects with `TYPE_MISMATCH`. */
  validate?: (value: unknown) => boolean;
  /** Free-form data for integrations, e.g. `{ logField: 'req_id' }`. */
  metadata?: Readonly<Record<string, unknown>>;
  /** The schema version of the value; receivers migrate older versions up to it. Default 1. */
  version?: number;
  /** Local-only: travels in snapshots inside the process, never serialized. Default false. */
  local?: boolean;
  /** How the value is encoded on the wire. Default `'msgpack'`. */
  codec?: KeyCodec<T>;
}

/** Turns a value written by an older sender at `fromVersion` into the shape of `fromVersion + 1`. */
export type Migration = (value: unknown) => unknown;

/** What the registry knows about one key; queryable by integrations through `registeredKeys()`. */
export interface KeyInfo {
  readonly name: string;
  /** Dense slot index, 0..n-1, in registration order. */
  readonly index: number;
  readonly version: number;
  readonly local: boolean;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Internal definition of a registered key (everything the stores and the wire need). */
export interface KeyDefinition extends KeyInfo {
  readonly defaultValue: (() => unknown) | undefined;
  readonly validate: ((value: unknown) => boolean) | undefined;
  readonly codec: KeyCodec<unknown>;
  /** `migrations[v]` upgrades a value from version `v` to `v + 1`. */
  readonly migrations: ReadonlyMap<number, Migration>;
}
