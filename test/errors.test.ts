import { describe, expect, it } from 'vitest';
import { DContextError, isDContextError } from '../src/index.js';

describe('DContextError', () => {
  it('carries a stable code and the key it is about', () => {
    const error = new DContextError('NOT_REGISTERED', "'tenant' is not registered", 'tenant');
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('NOT_REGISTERED');
    expect(error.key).toBe('tenant');
    expect(error.name).toBe('DContextError');
    expect(isDContextError(error, 'NOT_REGISTERED')).toBe(true);
    expect(isDContextError(error, 'TYPE_MISMATCH')).toBe(false);
    expect(isDContextError(new Error('x'))).toBe(false);
  });
});

describe('DContextError as users and loggers see it', () => {
  it('is named DContextError in its constructor, its stack and the published types', async () => {
    const error = new DContextError('NOT_INITIALIZED', 'not yet');
    // pino's err.type and util.inspect read the constructor's name.
    expect(error.constructor.name).toBe('DContextError');
    expect(String(error.stack).startsWith('DContextError: not yet')).toBe(true);
    const { readdir, readFile } = await import('node:fs/promises');
    const dist = new URL('../dist/', import.meta.url);
    const declarations = (await readdir(dist)).filter((f) => /\.d\.c?ts$/.test(f));
    expect(declarations.length).toBeGreaterThan(0);
    for (const file of declarations) {
      expect(await readFile(new URL(file, dist), 'utf8')).not.toMatch(/DContextErrorImpl/);
    }
  });

  it('is recognised by instanceof across copies of the class (ESM and CJS builds)', () => {
    const foreign = Object.create(Object.getPrototypeOf(new DContextError('SCOPE_ORDER', 'x')));
    expect(foreign instanceof DContextError).toBe(true);
    expect(new Error('plain') instanceof DContextError).toBe(false);
    const nothing: unknown = null;
    expect(nothing instanceof DContextError).toBe(false);
  });
});
