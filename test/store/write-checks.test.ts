import { describe, expect, it } from 'vitest';
import type { KeyDefinition } from '../../src/registry/types.js';
import { validateValue, validationFailure } from '../../src/store/write-checks.js';
import { codeOf } from '../support/codes.js';

const keyWith = (validate: KeyDefinition['validate']): KeyDefinition => ({
  name: 'tenant',
  index: 0,
  version: 1,
  local: false,
  metadata: {},
  defaultValue: undefined,
  validate,
  codec: 'msgpack',
  migrations: new Map(),
});

describe('validate, shared by writes and the wire', () => {
  const isString = keyWith((value) => typeof value === 'string');

  it('passes a value its validate accepts, and undefined without asking', () => {
    expect(validationFailure(isString, 't1')).toBeUndefined();
    let asked = false;
    const recording = keyWith(() => {
      asked = true;
      return false;
    });
    expect(validationFailure(recording, undefined)).toBeUndefined();
    expect(asked).toBe(false);
  });

  it('reports a rejected value, with what the predicate threw as the cause', () => {
    expect(validationFailure(isString, 42)).toEqual({ cause: undefined });
    const thrown = new Error('not a tenant');
    const throwing = keyWith(() => {
      throw thrown;
    });
    expect(validationFailure(throwing, 'x')?.cause).toBe(thrown);
  });

  it('makes a write answer TYPE_MISMATCH, carrying the cause', () => {
    expect.assertions(2);
    expect(codeOf(() => validateValue(isString, 42))).toBe('TYPE_MISMATCH');
    const thrown = new Error('boom');
    try {
      validateValue(
        keyWith(() => {
          throw thrown;
        }),
        'x',
      );
    } catch (error) {
      expect((error as Error).cause).toBe(thrown);
    }
  });
});
