/**
 * Test-only: returns the shared runtime to its state before `initialize`, so one test file can
 * exercise initialization several times. Not exported from the package.
 */
import { NO_SLOT, SLOT } from '../registry/types.js';
import { rootFrame } from '../store/frame-shape.js';
import { runtime } from './runtime.js';

export function resetRuntimeForTests(): void {
  const root = rootFrame();
  // The old registry's key objects must not keep pointing at its slots.
  for (const key of runtime.registry?.keys ?? []) key[SLOT] = NO_SLOT;
  runtime.registry = null;
  runtime.root = root;
  runtime.syncCurrent = root;
  runtime.maxScopeChainLength = 64;
  runtime.maxContextSize = 64 * 1024;
}
