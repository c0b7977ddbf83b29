/** Argument checks shared by the ingress and egress options: `INVALID_ARGUMENT`, saying the fix. */
import { DContextError, type KeyRef } from '../../index.js';
import type { KeyList } from './types.js';

/** An RFC 9110 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An `INVALID_ARGUMENT` error with `message`. */
export function invalid(message: string): DContextError {
  return new DContextError('INVALID_ARGUMENT', message);
}

/** A short description of a value for messages (at most 40 characters of a string). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/** The options object, or `{}` for null/undefined. */
export function optionsObject<T extends object>(options: unknown, door: string): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`${door} options must be an object (got ${describe(options)})`);
  }
  return options as Partial<T>;
}

/** A header name, lower-cased (Node lower-cases incoming header names). */
export function headerName(value: unknown, fallback: string, what: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw invalid(`${what} must be a header name such as '${fallback}' (got ${describe(value)})`);
  }
  return value.toLowerCase();
}

/** A key name or an object with a string `name` (a `ContextKey`). */
export function isKeyRef(value: unknown): value is KeyRef {
  return (
    (typeof value === 'string' && value !== '') ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { name?: unknown }).name === 'string')
  );
}

/** `{ header: key }` as `[lower-cased header, key]` pairs. */
export function headerMap(value: unknown, what: string): (readonly [string, KeyRef])[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must map header names to keys: { 'x-tenant': tenantKey }`);
  }
  return Object.entries(value).map(([header, key]) => {
    if (!isKeyRef(key)) {
      throw invalid(
        `${what}['${header}'] must be a ContextKey or a key name (got ${describe(key)})`,
      );
    }
    return [headerName(header, 'x-tenant', `${what} header name`), key] as const;
  });
}

/** `'all'`, `'none'` or a list of keys, checked. */
export function keyListOption(
  value: unknown,
  fallback: 'all' | 'none',
  what: string,
): 'all' | 'none' | KeyList {
  if (value === undefined) return fallback;
  if (value === 'all' || value === 'none') return value;
  if (Array.isArray(value) && value.every(isKeyRef)) return value as KeyList;
  throw invalid(`${what} must be 'all', 'none' or a list of key names or ContextKeys`);
}

/** `value` when it is a function, undefined when absent; `INVALID_ARGUMENT` otherwise. */
export function optionalFunction<F>(value: unknown, what: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function')
    throw invalid(`${what} must be a function (got ${describe(value)})`);
  return value as F;
}
