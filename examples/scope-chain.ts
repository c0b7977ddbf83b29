// Scope chain: named scopes form a queryable chain, outermost first (unnamed scopes don't appear).
// Run: node --import tsx examples/scope-chain.ts
import assert from 'node:assert/strict';
import { initialize, RegistryBuilder, scope, scopeChain } from 'dcontext';

initialize(new RegistryBuilder());

await scope('ingress', () =>
  scope('auth', async () => {
    console.log('in auth:', scopeChain());
    await scope(async () => {
      await scope('db.query', async () => {
        console.log('in db.query:', scopeChain().join(' > '));
        assert.deepEqual(scopeChain(), ['ingress', 'auth', 'db.query']);
      });
    });
  }),
);
