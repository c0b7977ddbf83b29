import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, initialize, RegistryBuilder, scope, scopeChain, set } from '../../../src/index.js';
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
  server = createServer((req, res) => {
    setTimeout(() => res.end(`path ${req.url}`), Math.random() * 10);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent({ connections: 4 }).compose(traceUndiciRequests());
  unbind = bindChannel<UndiciRequestMessage>(
    UNDICI_REQUEST_CHANNEL,
    (message) => ({ url: message.url }),
    {
      name: 'undici:request',
    },
  );
});
afterAll(async () => {
  unbind();
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

/** Dispatches GET `path`; resolves with what each handler callback saw. */
function dispatchRecording(path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const seen: Record<string, unknown> = {};
    const record = (event: string) => {
      seen[event] = { url: get(url), requestId: get(requestId), scopeChain: scopeChain() };
    };
    agent.dispatch(
      { origin, path, method: 'GET' },
      {
        onRequestStart: () => record('requestStart'),
        onResponseStart: () => record('responseStart'),
        onResponseData: () => record('responseData'),
        onResponseEnd: () => {
          record('responseEnd');
          resolve(seen);
        },
        onResponseError: (_controller, error) => reject(error),
      },
    );
  });
}

describe('undici requests traced on a TracingChannel', () => {
  it("runs each request's handler callbacks in a child scope carrying its URL", async () => {
    const seen = await scope('handler', async () => {
      set(requestId, 'r1');
      return dispatchRecording('/one');
    });
    const expected = {
      url: `${origin}/one`,
      requestId: 'r1',
      scopeChain: ['handler', 'undici:request'],
    };
    expect(seen).toEqual({
      requestStart: expected,
      responseStart: expected,
      responseData: expected,
      responseEnd: expected,
    });
  });

  it('keeps 200 concurrent requests over 4 shared connections apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        scope(async () => {
          set(requestId, `r${i}`);
          return [i, await dispatchRecording(`/item/${i}`)] as const;
        }),
      ),
    );
    const mismatches = results.filter(([i, seen]) =>
      Object.values(seen).some(
        (value) =>
          (value as { url: string }).url !== `${origin}/item/${i}` ||
          (value as { requestId: string }).requestId !== `r${i}`,
      ),
    );
    expect(mismatches).toEqual([]);
  });

  it('leaves undici.request working, with the caller context after await', async () => {
    await scope('caller', async () => {
      set(requestId, 'r2');
      const response = await agent.request({ origin, path: '/api', method: 'GET' });
      expect(await response.body.text()).toBe('path /api');
      expect([get(url), get(requestId), scopeChain()]).toEqual([undefined, 'r2', ['caller']]);
    });
  });
});
