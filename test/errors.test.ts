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
