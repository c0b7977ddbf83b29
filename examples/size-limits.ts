// Size limits and hostile input: serialize refuses a context over the limit (and writes
// nothing); deserialize rejects oversized input before decoding it, bounds nesting, lengths and
// entry counts, and on bad input only ever throws DContextError - the current context stays as
// it was. A bad entry costs only itself: it is dropped and reported when its key is read.
// Run: node --import tsx examples/size-limits.ts
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import {
  DContextError,
  deserialize,
  get,
  initialize,
  maxContextSize,
  RegistryBuilder,
  scope,
  serialize,
  set,
  setMaxContextSize,
} from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const cart = builder.register<{ items: string[] }>('cart');
const port = builder.register<number>('port', { validate: (value) => Number.isInteger(value) });
initialize(builder);

function attempt(label: string, fn: () => unknown): void {
  try {
    fn();
    console.log(`${label}: accepted`);
  } catch (error) {
    assert.ok(error instanceof DContextError, 'only DContextError ever comes out');
    console.log(`${label}: ${error.code} - ${error.message}`);
  }
}

console.log(`default limit: ${maxContextSize()} bytes`);
setMaxContextSize(1024); // e.g. to keep an HTTP header small

await scope('ingress', async () => {
  set(requestId, 'req-1');
  set(cart, { items: Array.from({ length: 200 }, (_, i) => `sku-${i}`) });
  attempt('serialize a 200-item cart under a 1 KiB limit', () => serialize());
  set(cart, { items: ['sku-1', 'sku-2'] });
  const bytes = serialize();
  console.log(`serialize a 2-item cart: ${bytes.length} bytes`);

  attempt('deserialize 2 KiB of input', () => deserialize(new Uint8Array(2048)));
  attempt('deserialize a 1 MiB header string', () => deserialize('A'.repeat(1_400_000)));
  // 900 nested arrays in one entry: refused by the bounded pre-scan, without recursion.
  const nested = Uint8Array.from([
    1,
    0x90,
    0x93,
    0xa4,
    ...Buffer.from('cart'),
    4,
    ...new Array(900).fill(0x91),
    0xc0,
  ]);
  attempt('deserialize 900 levels of nesting', () => deserialize(nested));
  // A string claiming 4 GiB in a few bytes: refused before anything is allocated.
  attempt('deserialize a 4 GiB string claim', () =>
    deserialize(
      Uint8Array.from([1, 0x90, 0x93, 0xa4, ...Buffer.from('cart'), 4, 0xdb, 255, 255, 255, 255]),
    ),
  );
  attempt('deserialize random bytes', () => deserialize(Uint8Array.from([1, 0x92, 0xc1, 7, 7])));
  assert.equal(get(requestId), 'req-1', 'the current context is untouched');

  // A misbehaving sender, built by hand after docs/wire-format.md: format byte, scope chain,
  // then name / header (version * 4 + codec) / payload per entry. Its 'port' fails validate().
  const withBadPort = Uint8Array.from([
    1,
    ...encode(['other-service']),
    0x96,
    ...[...encode('request_id'), 4, ...encode('req-2')],
    ...[...encode('port'), 4, ...encode('eighty')],
  ]);
  const reports: string[] = [];
  const received = deserialize(withBadPort, {
    onDroppedEntry: (error) => reports.push(error.message),
  });
  console.log(`lazy mode: nothing reported yet (${reports.length})`);
  console.log(`  request_id=${received.get(requestId)}, port=${received.get(port)}`);
  console.log(`  reported on reading port: ${reports[0]}`);
  assert.equal(reports.length, 1);
  attempt("eager mode (onDecodeError: 'throw')", () =>
    deserialize(withBadPort, { onDecodeError: 'throw' }),
  );
  attempt('a custom limit on string length', () =>
    deserialize(bytes, { limits: { maxStringLength: 4 } }),
  );
});
console.log('ok: limits hold on both sides');
