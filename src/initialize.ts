/**
 * The public `initialize`: composes the layers below it. The registry only freezes the keys;
 * adopting the context of the thread that spawned this one (a worker started by
 * `spawnWithContext`) is the thread protocol's, composed here so that the registry imports
 * nothing from it (STYLE.md: the facade imports the layers, never the other way round).
 */

import type { RegistryBuilder } from './registry/builder.js';
import { freezeRegistry, isInitialized } from './registry/registry.js';
import { adoptSpawnerContext } from './thread/spawn-context.js';

/**
 * Freezes `builder` into the process-wide registry. Call once, at startup, before any context
 * is read or written. A second call throws `REGISTRY_FROZEN`. In a worker started by
 * `spawnWithContext`, the spawner's context becomes the worker's root here.
 *
 * @example
 * const builder = new RegistryBuilder();
 * export const requestId = builder.register<string>('request_id');
 * initialize(builder);
 */
export function initialize(builder: RegistryBuilder): void {
  freezeRegistry(builder);
  adoptSpawnerContext();
}

/** Like {@link initialize}, but returns false instead of throwing when already initialized. */
export function tryInitialize(builder: RegistryBuilder): boolean {
  if (isInitialized()) return false;
  initialize(builder);
  return true;
}
