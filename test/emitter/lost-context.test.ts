/**
 * The places where request context gets lost with AsyncLocalStorage alone, each shown without
 * dcontext's help and then fixed with it.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bind,
  bindEmitter,
  bindListener,
  get,
  initialize,
  RegistryBuilder,
  scope,
  set,
  syncCtx,
} from '../../src/index.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

/**
 * A callback-style connection pool, like the ones database drivers ship: when every connection
 * is busy, `acquire` queues the callback, and `release` (called by whichever request finishes
 * first) hands the freed connection to the next queued callback, synchronously.
 */
class CallbackPool {
  #free: number;
  readonly #waiting: ((connection: number) => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  acquire(callback: (connection: number) => void): void {
    if (this.#free > 0) {
      this.#free--;
      setImmediate(() => callback(this.#free));
    } else {
      this.#waiting.push(callback);
    }
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free++;
    else next(0);
  }
}

/** Three requests share a one-connection pool; returns what each callback read. */
async function throughPool(wrap: (callback: () => void) => () => void): Promise<unknown[]> {
  const pool = new CallbackPool(1);
  const reads = await Promise.all(
    ['r-1', 'r-2', 'r-3'].map((id) =>
      scope('request', () => {
        set(requestId, id);
        return new Promise<unknown>((resolve) => {
          const callback = (): void => {
            const read = get(requestId);
            setTimeout(() => {
              pool.release();
              resolve(read);
            }, 2);
          };
          pool.acquire(wrap(callback));
        });
      }),
    ),
  );
  return reads;
}

describe('a callback pool that runs queued callbacks from whichever request freed a slot', () => {
  it('loses the context: queued callbacks see the releasing request', async () => {
    expect(await throughPool((callback) => callback)).toEqual(['r-1', 'r-1', 'r-1']);
  });

  it('keeps it with bind() at the point the callback is handed over', async () => {
    expect(await throughPool((callback) => bind(callback))).toEqual(['r-1', 'r-2', 'r-3']);
  });
});

/**
 * A query builder in the style of ORMs: a thenable whose `then` sends the query on a shared
 * connection and calls back when the connection's 'row' event fires, from the connection's
 * context.
 */
function queryBuilder(connection: EventEmitter, sql: string): PromiseLike<string> {
  return {
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
    then<A = string, B = never>(
      onFulfilled?: ((row: string) => A | PromiseLike<A>) | null,
      onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
    ): PromiseLike<A | B> {
      return new Promise<string>((resolve) => {
        connection.once(`row:${sql}`, resolve);
      }).then(onFulfilled, onRejected);
    },
  };
}

function rawQuery(connection: EventEmitter, sql: string) {
  return {
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
    then(onRow: (row: string) => void): void {
      connection.once(`row:${sql}`, onRow);
    },
  };
}

function answer(connection: EventEmitter, sql: string): void {
  setTimeout(() => {
    scope('connection', () => {
      set(requestId, 'r-connection');
      connection.emit(`row:${sql}`, 'row');
    });
  }, 2);
}

describe('a custom thenable (an ORM query builder)', () => {
  it('loses the context in callbacks handed to its then()', async () => {
    const connection = new EventEmitter();
    const read = await scope(
      () =>
        new Promise<unknown>((resolve) => {
          set(requestId, 'r-query');
          rawQuery(connection, 'select 1').then(() => resolve(get(requestId)));
          answer(connection, 'select 1');
        }),
    );
    expect(read).toBe('r-connection');
  });

  it('keeps it with bind() on the callback', async () => {
    const connection = new EventEmitter();
    const read = await scope(
      () =>
        new Promise<unknown>((resolve) => {
          set(requestId, 'r-query');
          rawQuery(connection, 'select 1').then(bind(() => resolve(get(requestId))));
          answer(connection, 'select 1');
        }),
    );
    expect(read).toBe('r-query');
  });

  it('is followed across `await builder` by the async store; the sync store needs a snapshot', async () => {
    const connection = new EventEmitter();
    const reads = await scope(async () => {
      set(requestId, 'r-async');
      const guard = syncCtx.enterScope();
      syncCtx.set(requestId, 'r-sync');
      const syncContext = syncCtx.snapshot();
      guard.exit(); // a sync scope never stays open across an await
      answer(connection, 'select 2');
      const row = await queryBuilder(connection, 'select 2');
      return {
        row,
        async: get(requestId),
        sync: syncCtx.get(requestId),
        syncReentered: syncCtx.withContext(syncContext, () => syncCtx.get(requestId)),
      };
    });
    expect(reads).toEqual({
      row: 'row',
      async: 'r-async',
      sync: undefined,
      syncReentered: 'r-sync',
    });
  });
});

describe("req.on('end') after reading a request body (node:http)", () => {
  type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
  let handler: Handler = () => {};
  const server = http.createServer((req, res) => handler(req, res));
  let port = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** A POST whose body arrives in two chunks, the second after the handler has returned. */
  function post(id: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', headers: { 'x-request-id': id } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.write('first,');
      setTimeout(() => req.end('second'), 10);
    });
  }

  /** A handler that opens a scope per request and answers with what its 'end' listener read. */
  function handle(prepare: (req: http.IncomingMessage) => void, bound: boolean): Handler {
    return (req, res) =>
      scope('http', () => {
        set(requestId, String(req.headers['x-request-id']));
        prepare(req);
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        const onEnd = (): void => {
          res.end(`${String(get(requestId))}|${body}`);
        };
        req.on('end', bound ? bindListener(onEnd) : onEnd);
      });
  }

  it("loses the context: the 'end' listener runs in the socket's context", async () => {
    handler = handle(() => {}, false);
    expect(await Promise.all([post('r-1'), post('r-2')])).toEqual([
      'undefined|first,second',
      'undefined|first,second',
    ]);
  });

  it('keeps it with bindEmitter(req)', async () => {
    handler = handle((req) => bindEmitter(req), false);
    expect(await Promise.all([post('r-1'), post('r-2')])).toEqual([
      'r-1|first,second',
      'r-2|first,second',
    ]);
  });

  it('keeps it with bindListener on the one listener', async () => {
    handler = handle(() => {}, true);
    expect(await Promise.all([post('r-3'), post('r-4')])).toEqual([
      'r-3|first,second',
      'r-4|first,second',
    ]);
  });
});
