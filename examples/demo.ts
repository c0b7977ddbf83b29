// The dcontext demo (`npm run demo`, which builds the package first): one request context
// travelling through scopes, awaits and timers, from the synchronous store into the asynchronous
// one, into a worker thread and into a child process and back, while concurrent requests each
// keep their own values. Needs no services.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  asyncCtx,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  serializeToString,
  set,
  syncCtx,
  withContext,
} from 'dcontext';
import { spawnWithContext } from 'dcontext/worker';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant', { default: () => 'public' });
initialize(builder);

const log = (message: string) =>
  console.log(
    `[${get(requestId) ?? '-'} ${get(tenant)} ${scopeChain().join('>') || '(root)'}] ${message}`,
  );

console.log('1. scopes roll back, and named scopes form a chain');
syncCtx.scope('ingress', () => {
  set(requestId, 'req-1');
  syncCtx.scope('auth', () => {
    set(tenant, 'acme');
    log('inside auth');
  });
  log('auth scope ended: tenant is back to its default');
});
log('outside every scope: the root is read-only');

console.log('\n2. a snapshot carries context from syncCtx into asyncCtx, across await and timers');
const snap = syncCtx.scope('parser', () => {
  set(requestId, 'req-2');
  set(tenant, 'globex');
  return syncCtx.snapshot();
});
await asyncCtx.withContext(snap, () =>
  scope('handler', async () => {
    await sleep(5);
    log('after an await');
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        log('in a timer');
        resolve();
      }, 1),
    );
  }),
);

console.log('\n3. 1,000 concurrent requests with random delays each read only their own values');
let mismatches = 0;
await Promise.all(
  Array.from({ length: 1000 }, (_, i) =>
    scope('request', async () => {
      set(requestId, `req-${i}`);
      await sleep(Math.random() * 5);
      await new Promise((r) => setImmediate(r));
      if (get(requestId) !== `req-${i}`) mismatches++;
    }),
  ),
);
console.log(`   mismatches: ${mismatches}`);
assert.equal(mismatches, 0);

console.log("\n4. a worker thread started with spawnWithContext starts in the spawner's context");
await scope('ingress', () =>
  scope('resize-image', async () => {
    set(requestId, 'req-4');
    set(tenant, 'initech');
    const worker = spawnWithContext(new URL('./support/demo-worker.mjs', import.meta.url));
    const [seen] = (await once(worker, 'message')) as [Record<string, unknown>];
    await worker.terminate();
    console.log('   worker thread sees', seen);
    assert.deepEqual(
      { requestId: seen.requestId, tenant: seen.tenant, chain: seen.chain },
      { requestId: 'req-4', tenant: 'initech', chain: ['ingress', 'resize-image'] },
    );
  }),
);

console.log('\n5. across processes: a header-safe string to a child process and back');
await scope('checkout', async () => {
  set(requestId, 'req-5');
  set(tenant, 'umbrella');
  const header = serializeToString();
  log(`sending ${header.length} characters: ${header}`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [new URL('./support/demo-child.mjs', import.meta.url).pathname],
    { env: { ...process.env, DCONTEXT: header } },
  );
  const reply = JSON.parse(stdout) as Record<string, unknown>;
  console.log('   child process sees', { ...reply, context: '…' });
  assert.equal(reply.requestId, 'req-5');
  assert.deepEqual(reply.chain, ['checkout', 'child-process']);
  await withContext(deserialize(String(reply.context)), async () =>
    log('back in the parent, in the context the child returned'),
  );
  assert.equal(get(tenant), 'umbrella');
});
