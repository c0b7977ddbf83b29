// A sender for examples/version-migration.ts, as deployed at an older or newer version: its
// 'user' key has the shape of the version given on the command line. Prints its context header.
import { initialize, RegistryBuilder, serializeToString, syncCtx } from 'dcontext';

const version = Number(process.argv[2]);
const shapes: Record<number, unknown> = {
  1: 'u-42', // v1 sent the bare id
  2: { id: 'u-42', roles: ['buyer'] },
  4: { id: 'u-42', roles: ['buyer'], tier: 'gold', region: 'eu-west' },
};

const builder = new RegistryBuilder();
const user = builder.register<unknown>('user', { version });
const requestId = builder.register<string>('request_id');
// A key the receiver has never heard of.
const abTest = builder.register<string>('ab_test');
initialize(builder);

process.stdout.write(
  syncCtx.scope(`sender-v${version}`, () => {
    syncCtx.set(requestId, `req-from-v${version}`);
    syncCtx.set(user, shapes[version]);
    syncCtx.set(abTest, 'checkout-b');
    return serializeToString();
  }),
);
