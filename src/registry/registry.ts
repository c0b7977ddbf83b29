import { DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { rootFrame } from '../store/frame-shape.js';
import type { RegistryBuilder } from './builder.js';
import type { ContextKey, KeyRef } from './context-key.js';
import { type KeyDefinition, type KeyInfo, type Migration, NO_SLOT, SLOT } from './types.js';

const NO_MIGRATIONS: ReadonlyMap<number, Migration> = new Map();

/** The frozen, process-wide set of keys. Built once by `initialize`. */
export class Registry {
  /** Definitions by slot index. */
  readonly definitions: readonly KeyDefinition[];
  /** The key objects registered, by slot index (their `slot` points here while this registry is current). */
  readonly keys: readonly ContextKey<unknown>[];
  readonly #byName: ReadonlyMap<string, KeyDefinition>;

  constructor(builder: RegistryBuilder) {
    // Not Object.freeze'd: V8 reads elements of frozen arrays on a slower path (measured ~3.5 ns
    // per read). `readonly` in the types keeps it read-only for callers.
    this.definitions = builder.keys.map((key, index): KeyDefinition => {
      const options = key.options;
      return Object.freeze({
        name: key.name,
        index,
        version: options.version ?? 1,
        local: options.local === true,
        metadata: Object.freeze({ ...(options.metadata ?? {}) }),
        defaultValue: options.default,
        validate: options.validate,
        codec: options.codec ?? 'msgpack',
        migrations: builder.migrations.get(key.name) ?? NO_MIGRATIONS,
      });
    });
    this.#byName = new Map(this.definitions.map((d) => [d.name, d]));
    this.keys = builder.keys.slice();
  }

  /** Number of registered keys (the length of every frame's slot array). */
  get size(): number {
    return this.definitions.length;
  }

  /** The definition for `name`, or undefined when it is not registered. */
  byName(name: string): KeyDefinition | undefined {
    return this.#byName.get(name);
  }
}

/** The registry, or a `NOT_INITIALIZED` error. */
export function currentRegistry(): Registry {
  const registry = runtime.registry;
  if (registry === null) throw notInitialized();
  return registry;
}

function notInitialized(): DContextError {
  return new DContextError(
    'NOT_INITIALIZED',
    'dcontext is not initialized: register your keys on a RegistryBuilder and call initialize(builder) at startup',
  );
}

/**
 * The definition of `key` (a `ContextKey` or a registered name), or undefined when the name is
 * not registered. Throws `NOT_INITIALIZED` before `initialize`, `INVALID_ARGUMENT` for anything
 * that is neither a key nor a name.
 */
export function findDefinition(key: KeyRef): KeyDefinition | undefined {
  const registry = runtime.registry;
  if (registry === null) throw notInitialized();
  return lookUp(registry, key);
}

/**
 * Like {@link findDefinition}, but undefined also before `initialize` (for reads that must never
 * throw, such as `tryGet` in a logger). Still `INVALID_ARGUMENT` for a non-key.
 */
export function findDefinitionIfInitialized(key: KeyRef): KeyDefinition | undefined {
  const registry = runtime.registry;
  if (registry !== null) return lookUp(registry, key);
  checkKeyRef(key);
  return undefined;
}

function lookUp(registry: Registry, key: KeyRef): KeyDefinition | undefined {
  if (typeof key === 'string') return registry.byName(key);
  // A registered key object knows its slot; another object of the same name (or a structured
  // clone of a key, which carries no slot) resolves by name. `?.`: null must reach the check.
  const slot = key?.[SLOT];
  if (slot !== NO_SLOT && slot !== undefined) return registry.definitions[slot];
  checkKeyRef(key);
  return registry.byName(key.name);
}

/** Throws `INVALID_ARGUMENT` unless `key` is a name or an object with a string `name`. */
function checkKeyRef(key: unknown): void {
  if (typeof key === 'string') return;
  if (
    typeof key === 'object' &&
    key !== null &&
    typeof (key as { name?: unknown }).name === 'string'
  ) {
    return;
  }
  throw new DContextError(
    'INVALID_ARGUMENT',
    `expected a ContextKey or a registered key name, got ${describeValue(key)}`,
  );
}

/** A short description of a value for error messages (never its content). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Like {@link findDefinition}, but an unknown name throws `NOT_REGISTERED` (suggesting a close one). */
export function requireDefinition(key: KeyRef): KeyDefinition {
  const definition = findDefinition(key);
  if (definition !== undefined) return definition;
  const name = typeof key === 'string' ? key : key.name;
  const close = closestName(name, runtime.registry?.definitions ?? []);
  throw new DContextError(
    'NOT_REGISTERED',
    close === undefined
      ? `'${name}' is not registered; register it on the RegistryBuilder before initialize()`
      : `'${name}' is not registered; did you mean '${close}'? (otherwise register it on the RegistryBuilder before initialize())`,
    name,
  );
}

/**
 * The registered name closest to `name`: the same once case and `_`/`-`/`.` are ignored
 * (`requestId` for `request_id`), else within a small edit distance. Error path only.
 */
function closestName(name: string, definitions: readonly KeyInfo[]): string | undefined {
  const normalize = (text: string): string => text.toLowerCase().replace(/[-_.\s]/g, '');
  const wanted = normalize(name);
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 4)) + 1;
  for (const definition of definitions) {
    const distance = editDistance(wanted, normalize(definition.name), bestDistance);
    if (distance < bestDistance) {
      best = definition.name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, or `cap` once it is known to be at least `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= cap) return cap;
    previous = current;
  }
  return Math.min(previous[b.length]!, cap);
}

/**
 * Freezes `builder` into the process-wide registry: the registry's half of the public
 * `initialize` (src/initialize.ts), which then adopts a spawning thread's context. A second call
 * throws `REGISTRY_FROZEN`.
 */
export function freezeRegistry(builder: RegistryBuilder): void {
  if (runtime.registry !== null) {
    throw new DContextError(
      'REGISTRY_FROZEN',
      'dcontext is already initialized; initialize() runs once per process (use tryInitialize() when several modules may try)',
    );
  }
  const registry = new Registry(builder);
  assignSlots(registry.keys);
  builder.frozen = true;
  runtime.registry = registry;
  // The root gets one slot per key; an inherited root (a worker started with context) keeps its values.
  const rootValues = runtime.root.values;
  const values = new Array<unknown>(registry.size).fill(undefined);
  for (let i = 0; i < Math.min(rootValues.length, values.length); i++) values[i] = rootValues[i];
  runtime.root = rootFrame(values, runtime.root.chain, runtime.root.opaque, runtime.root.foreign);
  if (runtime.syncCurrent.isRoot) runtime.syncCurrent = runtime.root;
}

/**
 * Records each key object's slot on it (what the hot read trusts). Throws `INVALID_ARGUMENT`,
 * changing nothing, when a key object cannot take it (it was frozen).
 */
function assignSlots(keys: readonly ContextKey<unknown>[]): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    try {
      key[SLOT] = i;
    } catch (cause) {
      for (let j = 0; j < i; j++) keys[j]![SLOT] = NO_SLOT;
      throw new DContextError(
        'INVALID_ARGUMENT',
        `cannot initialize with '${key.name}': its ContextKey object is frozen, and dcontext records the key's slot on it; do not freeze key objects`,
        key.name,
        { cause },
      );
    }
  }
}

/** Whether `initialize` has run in this process. */
export function isInitialized(): boolean {
  return runtime.registry !== null;
}

/** Every registered key with its index, version, local flag and metadata, in slot order. */
export function registeredKeys(): readonly KeyInfo[] {
  return currentRegistry().definitions;
}
