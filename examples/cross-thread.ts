// Cross-thread: a worker started with spawnWithContext reads its spawner's context (values, local
// values, scope chain) from its first line, in both stores; its own workerData stays its own.
// Run: npm run build && node --import tsx examples/cross-thread.ts
// (the worker file imports the built package: Node 20 cannot load TypeScript in a worker)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { deserialize, initialize, RegistryBuilder, scope, set } from 'dcontext';
import { spawnWithContext } from 'dcontext/worker';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
// Local-only: never serialized; it reaches the worker by structured clone.
const session = builder.registerLocal<{ user: string; roles: string[] }>('session');
// Not registered by the worker: it passes through it untouched (see the wire format).
const clientVersion = builder.register<string>('client_version');
initialize(builder);

const thumbnailWorker = new URL('./support/thumbnail-worker.mjs', import.meta.url);

async function firstMessage(worker: Worker): Promise<Record<string, unknown>> {
  const [message] = (await once(worker, 'message')) as [Record<string, unknown>];
  await worker.terminate();
  return message;
}

await scope('http', async () => {
  set(requestId, 'req-7f3a');
  set(tenant, 'acme');
  set(session, { user: 'ada', roles: ['admin'] });
  set(clientVersion, 'ios-5.2');
  await scope('thumbnail', async () => {
    const seen = await firstMessage(
      spawnWithContext(thumbnailWorker, { workerData: { image: 'cat.png', width: 128 } }),
    );
    const { onward, ...rest } = seen;
    console.log('worker started with spawnWithContext sees:', rest);
    assert.deepEqual(rest, {
      workerData: { image: 'cat.png', width: 128 },
      requestId: 'req-7f3a',
      tenant: 'acme',
      session: { user: 'ada', roles: ['admin'] },
      chain: ['http', 'thumbnail'],
      sameInBothStores: true,
    });
    const forwarded = deserialize(onward as string);
    console.log(
      "the worker's onward context still carries client_version:",
      forwarded.get(clientVersion),
    );
    assert.equal(forwarded.get(clientVersion), 'ios-5.2');

    const plain = await firstMessage(new Worker(thumbnailWorker, { workerData: {} }));
    console.log('a plain new Worker sees:', { requestId: plain.requestId, chain: plain.chain });
    assert.equal(plain.requestId, undefined);
  });
});
