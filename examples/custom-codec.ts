// Codecs per key: MessagePack by default; 'superjson' for values MessagePack cannot carry
// faithfully (Date inside objects, Map, Set, BigInt, RegExp, undefined); or your own
// { encode, decode } when you know a tighter or stricter form - here an IPv4 address in 4 bytes
// and money as a bigint of cents.
// Run: node --import tsx examples/custom-codec.ts
import assert from 'node:assert/strict';
import {
  deserialize,
  initialize,
  isDContextError,
  RegistryBuilder,
  serialize,
  syncCtx,
  toDebugJSON,
  type ValueCodec,
} from 'dcontext';

/** An IPv4 address as its 4 bytes instead of a 7-15 character string. */
const ipv4: ValueCodec<string> = {
  encode: (address) => Uint8Array.from(address.split('.').map(Number)),
  decode: (bytes) => {
    if (bytes.length !== 4) throw new Error(`an IPv4 address is 4 bytes, got ${bytes.length}`);
    return bytes.join('.');
  },
};

interface Money {
  cents: bigint;
  currency: string;
}
/** Money as "<currency>:<cents>" in UTF-8: exact for any amount, unlike a float. */
const money: ValueCodec<Money> = {
  encode: ({ cents, currency }) => new TextEncoder().encode(`${currency}:${cents}`),
  decode: (bytes) => {
    const [currency, cents] = new TextDecoder().decode(bytes).split(':');
    if (currency === undefined || cents === undefined) throw new Error('expected currency:cents');
    return { currency, cents: BigInt(cents) };
  },
};

const builder = new RegistryBuilder();
const clientIp = builder.register<string>('client_ip', { codec: ipv4 });
const budget = builder.register<Money>('budget', { codec: money });
const session = builder.register<{ started: Date; scopes: Set<string> }>('session', {
  codec: 'superjson',
});
const plain = builder.register<{ started: Date; scopes: Set<string> }>('plain');
initialize(builder);

const bytes = syncCtx.scope('api', () => {
  syncCtx.set(clientIp, '203.0.113.42');
  syncCtx.set(budget, { cents: 1_234_567_890_123_456_789n, currency: 'EUR' });
  syncCtx.set(session, { started: new Date('2025-03-01T08:00:00Z'), scopes: new Set(['read']) });
  return serialize();
});
console.log(`serialized: ${bytes.length} bytes`);

const received = deserialize(bytes);
console.log('client_ip:', received.get(clientIp));
console.log('budget:', received.get(budget));
console.log('session:', received.get(session));
assert.equal(received.get(clientIp), '203.0.113.42');
assert.equal(received.get(budget)?.cents, 1_234_567_890_123_456_789n);
assert.ok(received.get(session)?.scopes instanceof Set);
assert.ok(received.get(session)?.started instanceof Date);

console.log('debug view (what logs and `npx dcontext decode` show):');
for (const entry of toDebugJSON(received).entries) console.log(' ', JSON.stringify(entry));

// With the default codec, a Set would silently become {}: serialize refuses it instead.
syncCtx.scope(() => {
  syncCtx.set(plain, { started: new Date(), scopes: new Set(['read']) });
  try {
    serialize();
    assert.fail('expected ENCODE_FAILED');
  } catch (error) {
    assert.ok(isDContextError(error, 'ENCODE_FAILED'));
    console.log(`default codec with a Set: ${error.code} - ${error.message}`);
  }
});
console.log('ok: every codec round-trips');
