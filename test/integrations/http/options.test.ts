/**
 * Ingress options and failure handling, with a minimal request and response: wrong options
 * fail when the middleware is made, never per request; a throwing onError or name function does
 * not escape; without onError each error code warns once.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initialize, scopeChain, tryGet } from '../../../src/index.js';
import {
  createContextFetch,
  expressContext,
  httpContext,
  type IngressOptions,
} from '../../../src/integrations/http/index.js';
import { builder, requestId, tenant } from './support/keys.js';

beforeAll(() => initialize(builder));
afterEach(() => vi.restoreAllMocks());

function fakeRequest(headers: Record<string, string>): IncomingMessage {
  return Object.assign(new EventEmitter(), { headers, method: 'GET', url: '/' }) as never;
}

function fakeResponse(): ServerResponse & { status?: number } {
  return Object.assign(new EventEmitter(), {
    headersSent: false,
    statusCode: 200,
    setHeader() {},
    end(this: { statusCode: number; status?: number }) {
      this.status = this.statusCode;
    },
  }) as never;
}

/** Runs one request through httpContext; returns what the listener saw, or undefined. */
function handle(options: IngressOptions, headers: Record<string, string> = {}) {
  let seen: { rid: unknown; chain: string[] } | undefined;
  httpContext(() => {
    seen = { rid: tryGet(requestId), chain: scopeChain() };
  }, options)(fakeRequest(headers), fakeResponse());
  return seen;
}

describe('ingress options', () => {
  it.each<[string, unknown]>([
    ['accept', { accept: 'some' }],
    ['onInvalid', { onInvalid: 'drop' }],
    ['header', { header: 'x dcontext' }],
    ['headers', { headers: { 'x-tenant': 42 } }],
    ['requestId.key', { requestId: {} }],
    ['requestId.generate', { requestId: { key: requestId, generate: 'uuid' } }],
    ['onError', { onError: 'log' }],
    ['verifyKeys', { verifyKeys: [] }],
    ['name', { name: 42 }],
  ])(
    'refuses a %s that means nothing with INVALID_ARGUMENT, when the middleware is made',
    (_, options) => {
      expect(() => expressContext(options as IngressOptions)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    },
  );

  it('refuses a listener that is not a function, and a fetchImpl that is not one', () => {
    expect(() => httpContext(undefined as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createContextFetch({}, 'fetch' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('runs the request when onError itself throws, and says so in a warning', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const seen = handle(
      {
        requestId: { key: requestId, generate: () => 'fresh' },
        onError: () => {
          throw new Error('logger down');
        },
      },
      { 'x-request-id': 'bad id with spaces' },
    );
    expect(seen).toEqual({ rid: 'fresh', chain: ['http'] });
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('logger down'),
      expect.objectContaining({ code: 'DCONTEXT_HTTP_ON_ERROR' }),
    );
  });

  it('falls back to the default scope name when name(req) throws, reporting it', () => {
    const errors: string[] = [];
    const seen = handle({
      name: () => {
        throw new Error('no route');
      },
      onError: (error) => errors.push(error.message),
    });
    expect(seen?.chain).toEqual(['http']);
    expect(errors).toEqual([expect.stringContaining('no route')]);
  });

  it('runs without a request id when even the generated one is refused by the key', () => {
    const errors: string[] = [];
    const seen = handle({
      requestId: { key: 'tenant', generate: () => 'NOT-A-TENANT' },
      onError: (error) => errors.push(error.code),
    });
    expect(seen).toEqual({ rid: undefined, chain: ['http'] });
    expect(errors).toEqual(['TYPE_MISMATCH']);
  });

  it.each<[string, () => unknown]>([
    [
      'throws',
      () => {
        throw new Error('no entropy');
      },
    ],
    ['returns a header-breaking value', () => 'id\r\nset-cookie: x'],
    ['returns no string', () => 42],
  ])(
    "a generate() that %s is the server's bug: reported once, never a 400, and the request keeps the rest of its context",
    (_, generate) => {
      const errors: string[] = [];
      const res = fakeResponse();
      const echoed: unknown[] = [];
      res.setHeader = ((name: string, value: unknown) => echoed.push([name, value])) as never;
      let seen: unknown[] | undefined;
      httpContext(
        () => {
          seen = [tryGet(requestId), tryGet(tenant)];
        },
        {
          headers: { 'x-tenant': tenant },
          requestId: { key: requestId, generate: generate as () => string },
          onInvalid: 'reject',
          onError: (error) => errors.push(error.code),
        },
      )(fakeRequest({ 'x-tenant': 'acme' }), res);
      expect(seen).toEqual([undefined, 'acme']);
      expect(errors).toEqual(['INVALID_ARGUMENT']);
      expect(res.status).toBeUndefined(); // no 400
      expect(echoed).toEqual([]);
    },
  );

  it('without onError, warns once per error code, then stays quiet', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const options: IngressOptions = { accept: 'all' };
    for (let i = 0; i < 5; i++) handle(options, { 'x-dcontext': 'not base64!' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('pass onError'),
      expect.objectContaining({ type: 'DContextWarning', code: 'DCONTEXT_HTTP_DECODE_FAILED' }),
    );
  });
});
