// Feature flags per request: a default for everyone, overrides per request and per sub-scope.
// Run: node --import tsx examples/feature-flags.ts
import assert from 'node:assert/strict';
import { get, initialize, RegistryBuilder, scope, update } from 'dcontext';

type Flags = Readonly<Record<string, boolean>>;
const builder = new RegistryBuilder();
const flags = builder.register<Flags>('feature_flags', { default: () => ({ newCheckout: false }) });
initialize(builder);

const enabled = (flag: string): boolean => get(flags)?.[flag] === true;

function checkout(): string {
  return enabled('newCheckout') ? 'new checkout' : 'old checkout';
}

const results = await Promise.all(
  ['alice', 'bob'].map((userName) =>
    scope('request', async () => {
      if (userName === 'alice') update(flags, (current) => ({ ...current, newCheckout: true }));
      await new Promise((r) => setTimeout(r, 1));
      const first = checkout();
      // A sub-scope can turn a flag off for one step only.
      const inDryRun = scope(() => {
        update(flags, (current) => ({ ...current, newCheckout: false }));
        return checkout();
      });
      return `${userName}: ${first} (dry run: ${inDryRun}), after: ${checkout()}`;
    }),
  ),
);
for (const line of results) console.log(line);
assert.equal(results[0], 'alice: new checkout (dry run: old checkout), after: new checkout');
assert.equal(results[1], 'bob: old checkout (dry run: old checkout), after: old checkout');
assert.equal(checkout(), 'old checkout');
