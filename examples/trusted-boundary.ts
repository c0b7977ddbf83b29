// Trust at the boundary: an edge takes from a caller only the keys it allows (`accept`), and an
// internal hop that crosses untrusted infrastructure signs the context (HMAC-SHA256) so a forged
// or altered header is refused with BAD_SIGNATURE. Rotation: verify with [current, previous].
// Run: node --import tsx examples/trusted-boundary.ts
import assert from 'node:assert/strict';
import {
  type DContextError,
  deserialize,
  get,
  initialize,
  isDContextError,
  RegistryBuilder,
  Snapshot,
  serializeToString,
  withContext,
} from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
initialize(builder);

// 1. An attacker sends a header that sets the tenant.
const forged = serializeToString(
  Snapshot.empty().with(requestId, 'req-1').with(tenant, 'victim-corp'),
);

// An internet-facing edge accepts only the request id from outside: the tenant is dropped and
// reported (code NOT_ACCEPTED), never set.
const dropped: DContextError[] = [];
const atTheEdge = deserialize(forged, {
  accept: [requestId],
  onDroppedEntry: (error) => dropped.push(error),
});
withContext(atTheEdge, () => {
  assert.equal(get(requestId), 'req-1');
  assert.equal(get(tenant), undefined);
});
assert.deepEqual(
  dropped.map((e) => [e.code, e.key]),
  [['NOT_ACCEPTED', 'tenant']],
);
console.log('edge: took request_id, refused tenant from a stranger');

// 2. Between our own services, across a hop we do not trust, the context is signed.
const current = 'k2-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e';
const previous = 'k1-0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d';
const signed = serializeToString(Snapshot.empty().with(tenant, 'acme'), { signingKey: current });
const received = deserialize(signed, { verifyKeys: [current, previous] });
assert.equal(received.get(tenant), 'acme');
console.log(`internal hop: signed header of ${signed.length} characters verified`);

// A context signed with the previous key still verifies during a rotation...
const old = serializeToString(Snapshot.empty().with(tenant, 'acme'), { signingKey: previous });
assert.equal(deserialize(old, { verifyKeys: [current, previous] }).get(tenant), 'acme');

// ...while an unsigned or forged one is refused before anything in it is read.
for (const input of [forged, `${signed.slice(0, -4)}AAAA`]) {
  assert.throws(
    () => deserialize(input, { verifyKeys: [current, previous] }),
    (error: unknown) => isDContextError(error, 'BAD_SIGNATURE'),
  );
}
console.log('internal hop: unsigned and altered headers refused with BAD_SIGNATURE');
