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
    const version = key.options.version ?? 1;
    if (!Number.isInteger(version) || version < 1) {
      throw new DContextError(
        'INVALID_ARGUMENT',
        `'${key.name}' has version ${String(version)}; versions are integers >= 1`,
        key.name,
      );
    }
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
