/**
 * Question: what does a typical context cost on the wire, in bytes and in time?
 *
 * A 10-entry context (request id, tenant, user with roles, feature flags, deadline, trace and
 * span ids, locale, sampled flag, retry count) under a two-name scope chain. The JSON baseline
 * carries the same information: `JSON.stringify({ v, chain, entries: [{ key, version, value }] })`
 * and `JSON.parse` back; superjson of the same object sits beside it. Also printed: the compact
 * plain `{ name: value }` JSON (no versions, no chain), which carries less.
 *
 * Run: `npx tsx bench/wire.bench.ts` (`--quick` for a short run).
 */
import os from 'node:os';
import { encode } from '@msgpack/msgpack';
import superjson from 'superjson';
import {
  ContextKey,
  deserialize,
  initialize,
  RegistryBuilder,
  type Snapshot,
  serialize,
  serializeToString,
  syncCtx,
} from '../src/index.js';
import { type BatchTask, measure } from './support/measure.js';

interface User {
  id: string;
  roles: string[];
}

const keys = {
  requestId: new ContextKey<string>('request_id'),
  tenant: new ContextKey<string>('tenant'),
  user: new ContextKey<User>('user'),
  flags: new ContextKey<Record<string, boolean>>('flags'),
  deadline: new ContextKey<number>('deadline'),
  traceId: new ContextKey<string>('trace_id'),
  spanId: new ContextKey<string>('span_id'),
  locale: new ContextKey<string>('locale'),
  sampled: new ContextKey<boolean>('sampled'),
  retryCount: new ContextKey<number>('retry_count'),
};
const values: Record<string, unknown> = {
  request_id: 'req_01J9ZC4W8M3TQK7Y2XHB5N6RDV',
  tenant: 'acme-corp',
  user: { id: 'usr_8f2k3j9x', roles: ['admin', 'billing'] },
  flags: { newCheckout: true, darkMode: false, fastSearch: true },
  deadline: 1767225600000,
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  locale: 'en-US',
  sampled: true,
  retry_count: 2,
};
const chain = ['http', 'checkout'];

const keyList = Object.values(keys) as ContextKey<unknown>[];
const builder = new RegistryBuilder();
for (const key of keyList) key.registerOn(builder);
initialize(builder);

let context: Snapshot | undefined;
syncCtx.scope('http', () =>
  syncCtx.scope('checkout', () => {
    for (const key of keyList) syncCtx.set(key.name, values[key.name]);
    context = syncCtx.snapshot();
  }),
);
const snap = context!;

const baseline = {
  v: 1,
  chain,
  entries: Object.entries(values).map(([key, value]) => ({ key, version: 1, value })),
};
const wire = serialize(snap);
const wireString = serializeToString(snap);
const baselineJson = JSON.stringify(baseline);
const superjsonText = superjson.stringify(baseline);
const compactJson = JSON.stringify(values);
const msgpackPlain = encode(values);

const sizes = [
  ['dcontext serialize() (binary)', wire.length],
  ['dcontext serializeToString() (base64url)', wireString.length],
  ['JSON baseline { v, chain, entries }', Buffer.byteLength(baselineJson)],
  ['superjson.stringify(baseline)', Buffer.byteLength(superjsonText)],
  ['compact JSON { name: value } (less info)', Buffer.byteLength(compactJson)],
  ['MessagePack { name: value } (less info)', msgpackPlain.length],
] as const;

const received = deserialize(wire);
// Signing: HMAC-SHA256 with a 32-byte key, each way.
const signingKey = new Uint8Array(32).fill(7);
const signed = serialize(snap, { signingKey });
const verifyKeys = [signingKey];
const B = 100;
let sink = 0;
const tasks: BatchTask[] = [
  {
    name: 'dcontext serialize',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += serialize(snap).length;
    },
  },
  {
    name: 'JSON.stringify baseline',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += JSON.stringify(baseline).length;
    },
  },
  {
    name: 'superjson.stringify baseline',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += superjson.stringify(baseline).length;
    },
  },
  {
    name: 'dcontext deserialize + read 10',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) {
        const s = deserialize(wire);
        for (const key of keyList) if (s.get(key) !== undefined) sink++;
      }
    },
  },
  {
    name: 'dcontext deserialize + read 2',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) {
        const s = deserialize(wire);
        if (s.get(keys.requestId) !== undefined && s.get(keys.tenant) !== undefined) sink++;
      }
    },
  },
  {
    name: 'dcontext deserialize(string) + read 2',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) {
        const s = deserialize(wireString);
        if (s.get(keys.requestId) !== undefined && s.get(keys.tenant) !== undefined) sink++;
      }
    },
  },
  {
    name: 'JSON.parse baseline',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += JSON.parse(baselineJson).entries.length;
    },
  },
  {
    name: 'superjson.parse baseline',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += superjson.parse<typeof baseline>(superjsonText).v;
    },
  },
  {
    name: 'dcontext round trip (serialize + deserialize + read 10)',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) {
        const s = deserialize(serialize(snap));
        for (const key of keyList) if (s.get(key) !== undefined) sink++;
      }
    },
  },
  {
    name: 'JSON round trip (stringify + parse)',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += JSON.parse(JSON.stringify(baseline)).entries.length;
    },
  },
  {
    name: 'forward: deserialize + serialize, no reads',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += serialize(deserialize(wire)).length;
    },
  },
  {
    name: 're-serialize a received snapshot, nothing read',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += serialize(received).length;
    },
  },
  {
    name: 'dcontext serialize, signed',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += serialize(snap, { signingKey }).length;
    },
  },
  {
    name: 'dcontext deserialize, verified + read 2',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) {
        const s = deserialize(signed, { verifyKeys });
        if (s.get(keys.requestId) !== undefined && s.get(keys.tenant) !== undefined) sink++;
      }
    },
  },
  {
    name: 'deserialize alone, no reads',
    batch: B,
    fn: () => {
      for (let i = 0; i < B; i++) sink += deserialize(wire).scopeChain.length;
    },
  },
];

/** The JSON operation each row is compared with (same information, same run). */
const jsonPeer: Record<string, string> = {
  'dcontext serialize': 'JSON.stringify baseline',
  'dcontext serialize, signed': 'JSON.stringify baseline',
  'dcontext deserialize, verified + read 2': 'JSON.parse baseline',
  'superjson.stringify baseline': 'JSON.stringify baseline',
  're-serialize a received snapshot, nothing read': 'JSON.stringify baseline',
  'dcontext deserialize + read 10': 'JSON.parse baseline',
  'dcontext deserialize + read 2': 'JSON.parse baseline',
  'dcontext deserialize(string) + read 2': 'JSON.parse baseline',
  'superjson.parse baseline': 'JSON.parse baseline',
  'deserialize alone, no reads': 'JSON.parse baseline',
  'dcontext round trip (serialize + deserialize + read 10)': 'JSON round trip (stringify + parse)',
  'forward: deserialize + serialize, no reads': 'JSON round trip (stringify + parse)',
};

const results = await measure(tasks);
const ns = new Map(results.map((r) => [r.name, r.nsPerOp]));
const at = (name: string): number => ns.get(name)!;
const pct = (a: number, b: number): string => `${((a / b) * 100).toFixed(0)}%`;
const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

console.log(`\n## Wire format (${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version})\n`);
console.log('| form | bytes | vs JSON baseline | vs compact JSON |');
console.log('| --- | ---: | ---: | ---: |');
const baseSize = Buffer.byteLength(baselineJson);
const compactSize = Buffer.byteLength(compactJson);
for (const [label, size] of sizes) {
  console.log(`| ${label} | ${size} | ${pct(size, baseSize)} | ${pct(size, compactSize)} |`);
}
console.log('\n| operation | ns/op | ± | time vs its JSON peer |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of results) {
  const peer = jsonPeer[r.name];
  const ratio = peer === undefined ? '' : `${x(r.nsPerOp, at(peer))} of ${peer}`;
  console.log(`| ${r.name} | ${r.nsPerOp.toFixed(0)} | ${r.spread.toFixed(0)}% | ${ratio} |`);
}

const roundTrip = at('dcontext round trip (serialize + deserialize + read 10)');
const jsonRoundTrip = at('JSON round trip (stringify + parse)');
const lazy = at('dcontext deserialize + read 2');
const jsonParse = at('JSON.parse baseline');
const forward = at('forward: deserialize + serialize, no reads');
const fresh = at('dcontext serialize');
const targets: [string, boolean, string][] = [
  ['binary <= 50% of JSON baseline', wire.length <= baseSize * 0.5, pct(wire.length, baseSize)],
  [
    'base64url <= 67% of JSON baseline',
    wireString.length <= baseSize * 0.67,
    pct(wireString.length, baseSize),
  ],
  [
    'encode + decode no slower than JSON round trip',
    roundTrip <= jsonRoundTrip,
    `${x(jsonRoundTrip, roundTrip)} as fast`,
  ],
  [
    'decode + read 2 of 10 >= 2x faster than JSON.parse',
    jsonParse >= 2 * lazy,
    `${x(jsonParse, lazy)} as fast`,
  ],
];
console.log('\n| target | result | measured |');
console.log('| --- | --- | ---: |');
for (const [label, ok, measured] of targets) {
  console.log(`| ${label} | ${ok ? 'PASS' : 'MISS'} | ${measured} |`);
}
console.log(
  `\nhonest size: the wire form is ${pct(wire.length, compactSize)} of compact { name: value } JSON` +
    ` (MessagePack of that object alone: ${pct(msgpackPlain.length, compactSize)}), while carrying versions and the chain too.`,
);
const reserialize = at('re-serialize a received snapshot, nothing read');
console.log(
  `forwarding hop: re-serializing a received snapshot nothing read from costs ${reserialize.toFixed(0)} ns,` +
    ` ${x(reserialize, fresh)} a fresh serialize of the same context (untouched entries are copied, not` +
    ` decoded and re-encoded); with deserialize: ${forward.toFixed(0)} ns, ${x(forward, jsonRoundTrip)} a JSON round trip.`,
);
const signedEncode = at('dcontext serialize, signed');
const verifiedDecode = at('dcontext deserialize, verified + read 2');
console.log(
  `signing (HMAC-SHA256, 32-byte key): serialize ${signedEncode.toFixed(0)} ns signed vs ${fresh.toFixed(0)} ns` +
    ` (${x(signedEncode, fresh)}); deserialize + read 2 ${verifiedDecode.toFixed(0)} ns verified vs` +
    ` ${lazy.toFixed(0)} ns (${x(verifiedDecode, lazy)}); ${signed.length - wire.length} bytes more.`,
);
if (sink === -1) console.log('unreachable');
