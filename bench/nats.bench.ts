/**
 * Question: what does dcontext/nats add per message, next to plain NATS with the same payload?
 *
 * - **Request/reply round trip** on the NATS server, one request in flight: `nc.request` to a
 *   plain subscription callback vs `requestWithContext` (from a scope holding 5 typical keys) to
 *   a `handleWithContext` responder reading two keys.
 * - **Publish + handle**: a batch of messages published (`nc.publish` vs `publishWithContext`)
 *   and handled by a subscription (plain callback vs `handleWithContext`), timed from the first
 *   publish to the last message handled.
 *   The variants run interleaved in small chunks, in rotating order; the median chunk counts. Target:
 *   the overhead is at most 10% of plain NATS.
 * - **dcontext's own work per message**, in-process (no server): `contextHeaders()` and
 *   `handleWithContext` around a handler, with a message carrying the header.
 * - **The size** the context header adds to a message with 5 typical keys.
 *
 * Needs NATS (NATS_URL, default nats://127.0.0.1:4222). Run: `npm run bench -- nats`
 * (`--quick` for a short run).
 */
import { connect, headers, type Msg } from '@nats-io/transport-node';
import { initialize, RegistryBuilder, scope, set, tryGet } from '../src/index.js';
import {
  contextHeaders,
  handleWithContext,
  publishWithContext,
  requestWithContext,
} from '../src/integrations/nats/index.js';
import { measure, median, quick } from './support/measure.js';
import { printTable, target } from './support/table.js';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const user = builder.register<{ id: string; roles: string[] }>('user');
const locale = builder.register<string>('locale');
const deadline = builder.register<number>('deadline');
initialize(builder);

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const base = `bench.${process.pid}`;
const payload = JSON.stringify({ sku: 'book-42', quantity: 2, warehouse: 'eu-1' });
// Small chunks, the variants interleaved chunk by chunk in rotating order: on a shared machine the
// load drifts within seconds, and every variant then sees the same drift.
const REQUESTS = 50;
const MESSAGES = 200;
const ROUNDS = quick ? 10 : 40;

function inRequest<R>(fn: () => R): R {
  return scope('http', () =>
    scope('checkout', () => {
      set(requestId, 'req-7f3a9c2e-1b4d-4e8f-9a2b-3c4d5e6f7a8b');
      set(tenant, 'acme');
      set(user, { id: 'u-42', roles: ['buyer', 'admin'] });
      set(locale, 'en-GB');
      set(deadline, 1_900_000_000_000);
      return fn();
    }),
  );
}

const read = () => `${tryGet(requestId) ?? '-'} ${tryGet(tenant) ?? '-'}`;
const plainResponder = (_err: Error | null, msg: Msg) => void msg.respond(read());
const contextResponder = handleWithContext((msg) => void msg.respond(read()));
nc.subscribe(`${base}.rr.plain`, { callback: plainResponder });
nc.subscribe(`${base}.rr.header`, {
  callback: (_err, msg) => {
    msg.headers?.get('x-dcontext');
    plainResponder(_err, msg);
  },
});
nc.subscribe(`${base}.rr.dcontext`, { callback: (_err, msg) => void contextResponder(msg) });

type Variant = 'plain' | 'header' | 'dcontext';
const VARIANTS: readonly Variant[] = ['plain', 'header', 'dcontext'];
// The raw building block with the same bytes on the wire: a header of the same size, read by a
// plain callback. What separates it from 'dcontext' is dcontext's own work.
const sameHeader = inRequest(() => contextHeaders()).get('x-dcontext');
const plainHeaders = () => {
  const h = headers();
  h.set('x-dcontext', sameHeader);
  return h;
};

/** REQUESTS sequential requests: µs per round trip. */
async function requestReply(variant: Variant): Promise<number> {
  const subject = `${base}.rr.${variant}`;
  return inRequest(async () => {
    const started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      if (variant === 'plain') await nc.request(subject, payload, { timeout: 5000 });
      else if (variant === 'header') {
        await nc.request(subject, payload, { timeout: 5000, headers: plainHeaders() });
      } else await requestWithContext(nc, subject, payload, { timeout: 5000 });
    }
    return ((performance.now() - started) * 1000) / REQUESTS;
  });
}

/** MESSAGES published and handled: µs per message. */
async function publishHandle(variant: Variant, round: number): Promise<number> {
  const subject = `${base}.ph.${variant}.${round}`;
  let handled = 0;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const count = () => {
    read();
    if (++handled === MESSAGES) allDone();
  };
  const handle = handleWithContext(count);
  const sub = nc.subscribe(subject, {
    callback:
      variant === 'dcontext'
        ? (_err, msg) => void handle(msg)
        : (_err, msg) => {
            msg.headers?.get('x-dcontext');
            count();
          },
  });
  await nc.flush();
  const started = performance.now();
  inRequest(() => {
    for (let i = 0; i < MESSAGES; i++) {
      if (variant === 'plain') nc.publish(subject, payload);
      else if (variant === 'header') nc.publish(subject, payload, { headers: plainHeaders() });
      else publishWithContext(nc, subject, payload);
    }
  });
  await done;
  const perMessage = ((performance.now() - started) * 1000) / MESSAGES;
  sub.unsubscribe();
  return perMessage;
}

const rr: Record<Variant, number[]> = { plain: [], header: [], dcontext: [] };
const ph: Record<Variant, number[]> = { plain: [], header: [], dcontext: [] };
for (const variant of VARIANTS) {
  await requestReply(variant); // warm-up
  await publishHandle(variant, -1);
}
for (let round = 0; round < ROUNDS; round++) {
  const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
  for (const variant of order) rr[variant].push(await requestReply(variant));
  for (const variant of order) ph[variant].push(await publishHandle(variant, round));
}
const rrPlain = median(rr.plain);
const rrHeader = median(rr.header);
const rrContext = median(rr.dcontext);
const phPlain = median(ph.plain);
const phHeader = median(ph.header);
const phContext = median(ph.dcontext);
printTable(
  `NATS request/reply round trip (median of ${ROUNDS} interleaved chunks of ${REQUESTS} sequential requests)`,
  [
    { label: 'nc.request + plain callback', nsPerOp: rrPlain * 1000 },
    { label: 'nc.request, same header + plain callback', nsPerOp: rrHeader * 1000 },
    { label: 'requestWithContext + handleWithContext', nsPerOp: rrContext * 1000 },
  ],
  { baseline: 'nc.request + plain callback', ratioHeader: '× plain' },
);
printTable(
  `NATS publish + handle per message (median of ${ROUNDS} interleaved chunks of ${MESSAGES} messages)`,
  [
    { label: 'nc.publish + plain callback', nsPerOp: phPlain * 1000 },
    { label: 'nc.publish, same header + plain callback', nsPerOp: phHeader * 1000 },
    { label: 'publishWithContext + handleWithContext', nsPerOp: phContext * 1000 },
  ],
  { baseline: 'nc.publish + plain callback', ratioHeader: '× plain' },
);

// dcontext's own work per message, without the server.
const carried = inRequest(() => contextHeaders());
const message = {
  subject: `${base}.x`,
  headers: carried,
  data: new Uint8Array(),
  string: () => payload,
};
const bareMessage = { subject: `${base}.x`, headers: undefined, data: new Uint8Array() };
const wrapped = handleWithContext(() => read());
const BATCH = 100;
const [headersOwn, headersBare, handleOwn, handleBare] = await inRequest(() =>
  measure(
    [
      {
        name: 'contextHeaders()',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) contextHeaders();
        },
      },
      {
        name: 'headers() (empty MsgHdrs)',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) headers();
        },
      },
      {
        name: 'handleWithContext(handler)(msg)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await wrapped(message as never);
        },
      },
      {
        name: 'handler(msg)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await (async (_m: unknown) => read())(bareMessage);
        },
      },
    ],
    { async: true },
  ),
);
printTable(
  "dcontext's own work per message, in-process (5 typical keys)",
  [headersBare!, headersOwn!, handleBare!, handleOwn!].map((m) => ({
    label: m.name,
    nsPerOp: m.nsPerOp,
    spread: m.spread,
  })),
  { baseline: headersBare!.name, ratioHeader: '× headers()' },
);
const headerLine = `x-dcontext: ${carried.get('x-dcontext')}\r\n`;
const withHeaders = headers();
withHeaders.set('x-dcontext', carried.get('x-dcontext'));
console.log(
  `Size: the context of 5 typical keys is ${carried.get('x-dcontext').length} characters; a message without other headers grows by ${(withHeaders as unknown as { encode(): Uint8Array }).encode().length} bytes (the NATS/1.0 header block), ${headerLine.length} with other headers already there.\n`,
);
const ownNs = headersOwn!.nsPerOp - headersBare!.nsPerOp + handleOwn!.nsPerOp - handleBare!.nsPerOp;
console.log(
  `dcontext's own work: ${(ownNs / 1000).toFixed(1)} µs per message = ${((ownNs / 1000 / rrPlain) * 100).toFixed(1)}% of the plain request/reply round trip (${rrPlain.toFixed(0)} µs), ${((ownNs / 1000 / phPlain) * 100).toFixed(0)}% of a plain pipelined publish + handle (${phPlain.toFixed(1)} µs)\n`,
);
target('NATS, request/reply with context ÷ plain <= 1.10', rrContext / rrPlain, '<=', 1.1);
target('NATS, publish + handle with context ÷ plain <= 1.10', phContext / phPlain, '<=', 1.1);
target(
  "NATS, dcontext's own work per message ÷ plain request/reply <= 0.10",
  ownNs / 1000 / rrPlain,
  '<=',
  0.1,
);
// Informational: dcontext's share, against NATS carrying the same header bytes.
console.log(
  `(with the same header bytes on plain NATS: request/reply ${(rrContext / rrHeader).toFixed(2)}x, publish + handle ${(phContext / phHeader).toFixed(2)}x)`,
);
await nc.drain();
