/**
 * `contextFetch` fails the way `fetch` does: an error on the way out (a context too large to
 * send, a `to` that throws, headers fetch refuses) is a rejected promise, never a synchronous
 * throw that `contextFetch(url).catch(…)` or `Promise.allSettled([...])` would miss.
 */
import { describe, expect, it } from 'vitest';
import { initialize, isDContextError, scope, set } from '../../../src/index.js';
import { contextFetch, createContextFetch } from '../../../src/integrations/http/index.js';
import { builder, user } from './support/keys.js';

initialize(builder);

// Nothing listens here: each call must fail before it connects.
const url = 'http://127.0.0.1:9/';

/** What calling `call` does: 'threw' synchronously, or the reason its promise rejected. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch {
    return 'threw';
  }
  return promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

describe('contextFetch errors are rejections, never synchronous throws', () => {
  it('a context too large to send rejects with CONTEXT_TOO_LARGE', async () => {
    const result = await scope('request', () => {
      set(user, 'u'.repeat(70_000));
      return outcome(() => contextFetch(url));
    });
    expect(isDContextError(result, 'CONTEXT_TOO_LARGE')).toBe(true);
  });

  it('a `to` that throws rejects with its error', async () => {
    const fetchTo = createContextFetch({
      to: () => {
        throw new Error('to refused');
      },
    });
    const result = await scope('request', () => {
      set(user, 'u-1');
      return outcome(() => fetchTo(url));
    });
    expect(result).toMatchObject({ message: 'to refused' });
  });

  it('headers fetch refuses reject with its TypeError, as fetch does', async () => {
    const result = await scope('request', () => {
      set(user, 'u-1');
      return outcome(() => contextFetch(url, { headers: { 'bad name': 'x' } }));
    });
    expect(result).toBeInstanceOf(TypeError);
  });
});
