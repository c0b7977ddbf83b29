// The dcontext demo (`npm run demo`): one request context travelling through scopes, awaits,
// timers and from the synchronous store into the asynchronous one, with concurrent requests
// each keeping their own values.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  asyncCtx,
  get,
  initialize,
  RegistryBuilder,
  scope,
  scopeChain,
  set,
  syncCtx,
} from '../src/index.js';

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
