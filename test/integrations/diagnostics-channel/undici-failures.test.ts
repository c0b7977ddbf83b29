/**
 * traceUndiciRequests when requests fail: refused connections and aborts reach the handler's
 * error callback in the request's own scope, and the caller's context is untouched.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, initialize, RegistryBuilder, scope, set } from '../../../src/index.js';
import {
  bindChannel,
  traceUndiciRequests,
  UNDICI_REQUEST_CHANNEL,
  type UndiciRequestMessage,
} from '../../../src/integrations/diagnostics-channel/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const url = builder.register<string>('url');
initialize(builder);

let server: Server;
let origin = '';
let agent: Dispatcher;
let unbind: () => void;
beforeAll(async () => {
  server = createServer(() => {}); // never answers: requests end by abort
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent().compose(traceUndiciRequests());
  unbind = bindChannel<UndiciRequestMessage>(UNDICI_REQUEST_CHANNEL, (m) => ({ url: m.url }));
});
afterAll(async () => {
  unbind();
  await agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Dispatches (aborted after `abortAfter` ms when given); resolves with what the error callback saw. */
function failing(target: string, path: string, abortAfter?: number) {
  return new Promise<{ url: unknown; requestId: unknown; error: string }>((resolve, reject) => {
    agent.dispatch({ origin: target, path, method: 'GET' }, {
      onRequestStart: (controller: { abort(reason: Error): void }) => {
        if (abortAfter !== undefined) {
          setTimeout(() => controller.abort(new Error('aborted by the caller')), abortAfter);
        }
      },
      onResponseStart: () => {},
      onResponseData: () => {},
      onResponseEnd: () => reject(new Error('should have failed')),
      onResponseError: (_controller: unknown, error: Error) =>
        resolve({ url: get(url), requestId: get(requestId), error: error.name }),
    } as never);
  });
}

describe('undici requests that fail', () => {
  it('reports a refused connection to the error callback in the request scope', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadOrigin = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const seen = await scope('caller', async () => {
      set(requestId, 'r-refused');
      const result = await failing(deadOrigin, '/gone');
      expect(get(url)).toBeUndefined();
      return result;
    });
    expect(seen.url).toBe(`${deadOrigin}/gone`);
    expect(seen.requestId).toBe('r-refused');
  });

  it('keeps 100 concurrent aborted requests in their own scopes', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        scope('caller', async () => {
          set(requestId, `r${i}`);
          const seen = await failing(origin, `/slow/${i}`, 5 + Math.random() * 20);
          return (
            seen.url === `${origin}/slow/${i}` &&
            seen.requestId === `r${i}` &&
            get(url) === undefined
          );
        }),
      ),
    );
    expect(results.filter((ok) => !ok)).toHaveLength(0);
  });
});
