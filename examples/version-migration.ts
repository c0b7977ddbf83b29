// Version migration: this service has 'user' at version 3 and registers how to upgrade values
// sent by older services (1 -> 2 -> 3, step by step). A value from a newer service (version 4)
// cannot be read here: it is kept opaque, `get` returns the default, and it is forwarded
// unchanged - as is a key this service does not know at all.
// Run: node --import tsx examples/version-migration.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deserialize, initialize, RegistryBuilder, serialize, toDebugJSON } from 'dcontext';

interface User {
  id: string;
  roles: string[];
  tier: 'standard' | 'gold';
}

const builder = new RegistryBuilder();
const user = builder.register<User>('user', {
  version: 3,
  default: () => ({ id: 'anonymous', roles: [], tier: 'standard' }),
});
builder.registerMigration('user', 1, (id) => ({ id, roles: [] }));
builder.registerMigration('user', 2, (v2) => ({ ...(v2 as object), tier: 'standard' }));
const requestId = builder.register<string>('request_id');
initialize(builder);

const sender = fileURLToPath(new URL('./support/versioned-sender.ts', import.meta.url));
const headerFrom = (version: number): string =>
  execFileSync(process.execPath, ['--import', 'tsx', sender, String(version)], {
    encoding: 'utf8',
  });

for (const version of [1, 2]) {
  const received = deserialize(headerFrom(version));
  console.log(`from a v${version} sender, user reads as`, received.get(user));
  assert.deepEqual(received.get(user), {
    id: 'u-42',
    roles: version === 1 ? [] : ['buyer'],
    tier: 'standard',
  });
}

const fromNewer = deserialize(headerFrom(4));
console.log('from a v4 sender, user reads as the default:', fromNewer.get(user));
assert.deepEqual(fromNewer.get(user), { id: 'anonymous', roles: [], tier: 'standard' });
assert.equal(fromNewer.get(requestId), 'req-from-v4');
console.log('what this service holds:');
for (const entry of toDebugJSON(fromNewer).entries) console.log(' ', JSON.stringify(entry));

// Forwarding: the v4 value and the unknown key leave this service exactly as they came in.
const forwarded = toDebugJSON(deserialize(serialize(fromNewer)));
const opaque = forwarded.entries.filter((entry) => entry.opaque !== undefined);
assert.deepEqual(
  opaque.map((entry) => [entry.key, entry.version, entry.opaque]),
  [
    ['user', 4, 'newer-version'],
    ['ab_test', 1, 'unknown-key'],
  ],
);
console.log('ok: older values migrated; newer and unknown entries forwarded untouched');
