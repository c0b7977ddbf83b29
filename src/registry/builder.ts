import { DContextError } from '../errors.js';
import { ContextKey, type WithDefault } from './context-key.js';
import type { KeyOptions, Migration } from './types.js';

/**
 * Collects key registrations before `initialize(builder)` freezes them into the process-wide
 * registry. Keys get dense slot indices in registration order.
 *
 * @example
 * const builder = new RegistryBuilder();
 * const requestId = builder.register<string>('request_id');
 * const flags = builder.register('flags', { default: () => ({}) as Record<string, boolean> });
 * initialize(builder);
 */
export class RegistryBuilder {
  /** @internal */
  readonly keys: ContextKey<unknown, boolean>[] = [];
  /** @internal */
  readonly migrations = new Map<string, Map<number, Migration>>();
  /** @internal set by `initialize`. */
  frozen = false;
  readonly #names = new Set<string>();

  /**
   * Registers a key that is serialized with the context (unless `options.local`). With a
   * `default`, reads of the key are typed `T` (never `undefined`).
   */
  register<T>(name: string, options: KeyOptions<T> & WithDefault<T>): ContextKey<T, true>;
  register<T>(name: string, options?: KeyOptions<T>): ContextKey<T>;
  register<T>(name: string, options: KeyOptions<T> = {}): ContextKey<T, boolean> {
    return this.add(new ContextKey<T, false>(name, options));
  }

  /** Registers a local-only key: it travels in snapshots and into threads, never onto the wire. */
  registerLocal<T>(name: string, options: KeyOptions<T> & WithDefault<T>): ContextKey<T, true>;
  registerLocal<T>(name: string, options?: KeyOptions<T>): ContextKey<T>;
  registerLocal<T>(name: string, options: KeyOptions<T> = {}): ContextKey<T, boolean> {
    return this.add(new ContextKey<T, false>(name, { ...options, local: true }));
  }

  /**
   * Registers how to upgrade values of `name` sent at `fromVersion` to `fromVersion + 1`.
   * Receivers chain these steps (1→2→3) up to the key's registered version.
   */
  registerMigration(name: string, fromVersion: number, migrate: Migration): this {
    this.#assertOpen(name);
    if (!Number.isInteger(fromVersion) || fromVersion < 1) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        `migration for '${name}' must start from a version >= 1 (got ${String(fromVersion)})`,
        name,
      );
    }
    if (typeof migrate !== 'function') {
      throw new DContextError(
        'INVALID_ARGUMENT',
        `migration for '${name}' from version ${fromVersion} must be a function (old value) => new value`,
        name,
      );
    }
    let steps = this.migrations.get(name);
    if (steps === undefined) this.migrations.set(name, (steps = new Map()));
    steps.set(fromVersion, migrate);
    return this;
  }

  /** Whether a key of that name is registered on this builder. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** @internal Registers an existing key object (used by `ContextKey.registerOn`). */
  add<K extends ContextKey<unknown, boolean>>(key: K): K {
    this.#assertOpen(key.name);
    if (typeof key.name !== 'string' || key.name.length === 0) {
      throw new DContextError('INVALID_ARGUMENT', 'a context key needs a non-empty string name');
    }
    if (this.#names.has(key.name)) {
      throw new DContextError(
        'ALREADY_REGISTERED',
        `'${key.name}' is already registered; register each key name once`,
        key.name,
      );
    }
    checkKeyOptions(key.name, key.options);
    this.#names.add(key.name);
    this.keys.push(key);
    return key;
  }

  #assertOpen(name: string): void {
    if (this.frozen) {
      throw new DContextError(
        'REGISTRY_FROZEN',
        `cannot register '${name}': the registry is frozen by initialize(); register every key before it`,
        name,
      );
    }
  }
}

/**
 * The highest key version: the entry header is `version * 4 + codec` and must stay a safe
 * integer, or the sender writes a header no receiver (itself included) can read.
 */
const MAX_KEY_VERSION = Math.floor(Number.MAX_SAFE_INTEGER / 4);

/** Refuses, when the key is registered, options that would fail later (at first use or on the wire). */
function checkKeyOptions(name: string, options: unknown): void {
  const invalid = (problem: string): DContextError =>
    new DContextError('INVALID_ARGUMENT', `'${name}' ${problem}`, name);
  if (typeof options !== 'object' || options === null) {
    throw invalid(
      `has options ${options === null ? 'null' : typeof options}; pass an object of KeyOptions`,
    );
  }
  const { version = 1, codec, validate, metadata } = options as KeyOptions<unknown>;
  const fallback: unknown = (options as { default?: unknown }).default;
  if (!Number.isInteger(version) || version < 1 || version > MAX_KEY_VERSION) {
    throw invalid(
      `has version ${String(version)}; versions are integers from 1 to ${MAX_KEY_VERSION}`,
    );
  }
  if (
    codec !== undefined &&
    codec !== 'msgpack' &&
    codec !== 'superjson' &&
    (typeof codec !== 'object' ||
      codec === null ||
      typeof codec.encode !== 'function' ||
      typeof codec.decode !== 'function')
  ) {
    throw invalid("has an unknown codec; use 'msgpack', 'superjson' or { encode, decode }");
  }
  if (fallback !== undefined && typeof fallback !== 'function') {
    throw invalid('has a default that is not a function; pass default: () => value');
  }
  if (validate !== undefined && typeof validate !== 'function') {
    throw invalid('has a validate that is not a function');
  }
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null)) {
    throw invalid('has metadata that is not an object');
  }
}
