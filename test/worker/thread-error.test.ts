/**
 * An error crossing from a worker becomes a DContextError only when it carries a code dcontext
 * has: a task (or a library in it) that throws something shaped like dcontext's form, or names
 * its error 'DContextError', must not make the caller see a DContextError with an invented code.
 */
import { describe, expect, it } from 'vitest';
import { DContextError, isDContextError } from '../../src/index.js';
import {
  fromThreadError,
  isThreadError,
  reviveWorkerError,
  toThreadError,
} from '../../src/worker/thread-error.js';

describe('errors across threads', () => {
  it('revives a DContextError with its code and key', () => {
    const form = toThreadError(new DContextError('DECODE_FAILED', 'bad', 'tenant'));
    expect(isThreadError(form)).toBe(true);
    const revived = fromThreadError(form as unknown[]);
    expect(isDContextError(revived, 'DECODE_FAILED')).toBe(true);
    expect((revived as DContextError).key).toBe('tenant');
  });

  it('does not make a DContextError of a forged form with a code dcontext does not have', () => {
    const forged = ['@@dcontext:error', new Error('forged'), 'PWNED', null];
    expect(isThreadError(forged)).toBe(true);
    expect(isDContextError(fromThreadError(forged))).toBe(false);
  });

  it("does not give DContextError's class to a worker error named so with an unknown code", () => {
    const error = Object.assign(new Error('from a library'), { name: 'DContextError', code: 'E1' });
    expect(isDContextError(reviveWorkerError(error))).toBe(false);
    const real = Object.assign(new Error('real'), { name: 'DContextError', code: 'NOT_CLONEABLE' });
    expect(isDContextError(reviveWorkerError(real), 'NOT_CLONEABLE')).toBe(true);
  });
});
