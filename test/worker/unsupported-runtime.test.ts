/**
 * A runtime whose worker_threads has no environment data (Node has; a runtime might not): the
 * package still loads, and spawnWithContext refuses loudly instead of starting a worker that
 * silently lacks its spawner's context.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  return { ...original, setEnvironmentData: undefined, getEnvironmentData: undefined };
});

const { initialize, isDContextError, RegistryBuilder, scope, set } = await import(
  '../../src/index.js'
);
const { spawnWithContext } = await import('../../src/worker/index.js');

describe('a runtime without worker_threads environment data', () => {
  it('initializes, and spawnWithContext throws UNSUPPORTED_RUNTIME naming the feature', () => {
    const builder = new RegistryBuilder();
    const requestId = builder.register<string>('request_id');
    initialize(builder);
    let thrown: unknown;
    scope(() => {
      set(requestId, 'r1');
      try {
        spawnWithContext(new URL('data:text/javascript,'), { eval: false });
      } catch (error) {
        thrown = error;
      }
    });
    expect(isDContextError(thrown, 'UNSUPPORTED_RUNTIME')).toBe(true);
    expect((thrown as Error).message).toContain('worker_threads.setEnvironmentData');
  });
});
