// Basic scope: values set in a scope vanish when it ends, also when it throws.
// Run: node --import tsx examples/basic-scope.ts
import assert from 'node:assert/strict';
import { initialize, RegistryBuilder, syncCtx } from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const user = builder.register<{ id: string; roles: string[] }>('user');
initialize(builder);

syncCtx.scope(() => {
  syncCtx.set(requestId, 'req-1');
  syncCtx.set(user, { id: 'u-42', roles: ['admin'] });
  console.log('inside the scope:', syncCtx.get(requestId), syncCtx.get(user));

  syncCtx.scope(() => {
    syncCtx.set(requestId, 'req-1/retry');
    console.log('  nested scope shadows it:', syncCtx.get(requestId));
  });
  console.log('back in the outer scope:', syncCtx.get(requestId));
  assert.equal(syncCtx.get(requestId), 'req-1');

  try {
    syncCtx.scope(() => {
      syncCtx.set(requestId, 'doomed');
      throw new Error('handler failed');
    });
  } catch {
    console.log('after a throwing scope:', syncCtx.get(requestId));
  }
});

// The same with a guard and `using`: the scope closes at the end of the block.
{
  using _scope = syncCtx.enterScope();
  syncCtx.set(requestId, 'req-2');
  console.log('guarded scope:', syncCtx.get(requestId));
}
console.log('outside every scope:', syncCtx.get(requestId));
assert.equal(syncCtx.get(requestId), undefined);
