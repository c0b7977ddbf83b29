// Dual stores: a snapshot carries context from syncCtx (sync code, no async hooks) into
// asyncCtx (async code) and back.
// Run: node --import tsx examples/dual-bridging.ts
import assert from 'node:assert/strict';
import { asyncCtx, initialize, RegistryBuilder, syncCtx } from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

// Synchronous ingress code (e.g. a parser) opens a scope on the sync stack.
const captured = (() => {
  using _ingress = syncCtx.enterNamedScope('ingress');
  syncCtx.set(requestId, 'req-sync-1');
  return syncCtx.snapshot();
})();

// Async work continues in that context.
const back = await asyncCtx.withContext(captured, () =>
  asyncCtx.scope('handler', async () => {
    await new Promise((r) => setTimeout(r, 5));
    console.log('async side sees', asyncCtx.get(requestId), asyncCtx.scopeChain());
    return asyncCtx.snapshot();
  }),
);

// And back into synchronous code, e.g. a CPU-bound step.
syncCtx.withContext(back, () => {
  console.log('sync side sees', syncCtx.get(requestId), syncCtx.scopeChain());
  assert.deepEqual(syncCtx.scopeChain(), ['ingress', 'handler']);
});
