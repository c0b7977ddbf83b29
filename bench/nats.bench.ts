/**
 * Question: what does dcontext/nats add per message, next to plain NATS with the same payload?
 *
 * - **Request/reply round trip** on the NATS server, one request in flight (chunks of 50
 *   sequential requests), and **publish + handle**, pipelined (chunks of 200 messages published
 *   at once and handled by a subscription, timed from the first publish to the last message
 *   handled). Each variant runs in processes of its own (fresh, alternating order) after a warm-up
 *   of several thousand messages: V8 keeps optimizing nats.js's and dcontext's functions for that
 *   long, and measuring the warm-up measures the compiler (see bench/bullmq.bench.ts). Variants:
 *   - `plain`: `nc.request`/`nc.publish` to a plain callback, in a process that never loads a
 *     context (on Node 20 no promise hooks at all);
 *   - `same header`: plain NATS carrying a header with the same bytes as dcontext's, read by the
 *     callback: the cost of the bytes on the wire and of nats.js's header code;
 *   - `by hand`: what a user writes without dcontext: an `AsyncLocalStorage` holding the 5 keys,
 *     sent as a JSON header and entered with `als.run` around the handler;
 *   - `dcontext`: `requestWithContext`/`publishWithContext` from a scope holding the 5 keys, to
 *     a `handleWithContext` handler reading two keys.
 *   Target: the overhead is at most 10% of plain NATS (wall time; CPU time reported).
 * - **dcontext's own work per message**, in-process (no server): `contextHeaders()` and
 *   `handleWithContext` around a handler, with a message carrying the header.
 * - **The size** the context header adds to a message with 5 typical keys.
 *
 * Needs NATS (NATS_URL, default nats://127.0.0.1:4222). Run: `npm run bench -- nats`
 * (`--quick` for a short run).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { connect, headers, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import type * as Core from '../src/index.js';
import type * as Integration from '../src/integrations/nats/index.js';
import { type PerUnitTime, timeChunks } from './support/callgrind.js';
import { childJob, reply, runChild } from './support/child.js';
import { importBuild } from './support/impls.js';
import { measure, median, quick, spreadPercent } from './support/measure.js';
import { printTable, target } from './support/table.js';

// dcontext as users run it: the build (see importBuild).
const { initialize, RegistryBuilder, scope, set, tryGet } = await importBuild<typeof Core>(
  'index.js',
  '../../src/index.js',
);
const { contextHeaders, handleWithContext, publishWithContext, requestWithContext } =
  await importBuild<typeof Integration>('nats.js', '../../src/integrations/nats/index.js');

type Variant = 'plain' | 'same header' | 'by hand' | 'dcontext';
const VARIANTS: readonly Variant[] = ['plain', 'same header', 'by hand', 'dcontext'];
/**
 * A child's job. With `instructions` it runs under callgrind (bench/messaging-instructions.ts)
 * and measures only `only`.
 */
export interface NatsJob {
  readonly variant: Variant;
  readonly warmChunks: number;
  readonly chunks: number;
  readonly instructions?: boolean;
  readonly only?: 'requestReply' | 'publishHandle';
}
/** µs per message: wall time, and this process's CPU time (user + system). */
type PerMessage = PerUnitTime;
interface NatsResult {
  readonly requestReply: PerMessage;
  readonly publishHandle: PerMessage;
}

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const payload = JSON.stringify({ sku: 'book-42', quantity: 2, warehouse: 'eu-1' });
const REQUESTS = 50;
const MESSAGES = 200;
const REQUEST = {
  request_id: 'req-7f3a9c2e-1b4d-4e8f-9a2b-3c4d5e6f7a8b',
  tenant: 'acme',
  user: { id: 'u-42', roles: ['buyer', 'admin'] },
  locale: 'en-GB',
  deadline: 1_900_000_000_000,
};
type RequestValues = typeof REQUEST;

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
const user = builder.register<RequestValues['user']>('user');
const locale = builder.register<string>('locale');
const deadline = builder.register<number>('deadline');

/** Runs `fn` in a request scope holding 5 typical keys. */
function inRequest<R>(fn: () => R): R {
  return scope('http', () =>
    scope('checkout', () => {
      set(requestId, REQUEST.request_id);
      set(tenant, REQUEST.tenant);
      set(user, { ...REQUEST.user });
      set(locale, REQUEST.locale);
      set(deadline, REQUEST.deadline);
      return fn();
    }),
  );
}
const read = () => `${tryGet(requestId) ?? '-'} ${tryGet(tenant) ?? '-'}`;

const job = childJob<NatsJob>();
if (job !== undefined) {
  reply(await natsProcess(job));
  process.exit(0);
}

/** One variant against the NATS server in this (child) process, after a warm-up. */
async function natsProcess(task: NatsJob): Promise<NatsResult> {
  const { variant } = task;
  const nc = await connect({ servers: NATS_URL });
  const base = `bench.${process.pid}`;
  const als = new AsyncLocalStorage<RequestValues>();
  // What each variant sends, how it enters the request, and how it handles a message.
  let enter: <R>(fn: () => R) => R = (fn) => fn();
  let opts: () => { headers?: MsgHdrs } = () => ({});
  // A subscription callback that runs `then(msg, answer)` in the message's context.
  type Then = (msg: Msg, answer: string) => void;
  let callbackFor = (then: Then) => (_err: unknown, msg: Msg) => then(msg, '- -');
  if (variant === 'same header') {
    initialize(builder);
    const bytes = inRequest(() => contextHeaders()).get('x-dcontext');
    opts = () => {
      const h = headers();
      h.set('x-dcontext', bytes);
      return { headers: h };
    };
    callbackFor = (then) => (_err, msg) => {
      msg.headers?.get('x-dcontext');
      then(msg, '- -');
    };
  } else if (variant === 'by hand') {
    enter = (fn) => als.run({ ...REQUEST }, fn);
    opts = () => {
      const h = headers();
      h.set('x-context', JSON.stringify(als.getStore()));
      return { headers: h };
    };
    const answer = () => `${als.getStore()?.request_id ?? '-'} ${als.getStore()?.tenant ?? '-'}`;
    callbackFor = (then) => (_err, msg) => {
      const carried = msg.headers?.get('x-context');
      const values = carried ? (JSON.parse(carried) as RequestValues) : undefined;
      als.run(values as RequestValues, () => then(msg, answer()));
    };
  } else if (variant === 'dcontext') {
    initialize(builder);
    enter = inRequest;
    callbackFor = (then) => {
      const handle = handleWithContext<Msg>((msg) => then(msg, read()));
      return (_err, msg) => void handle(msg);
    };
  }
  // Request/reply: a responder; publish + handle: a counting subscriber.
  nc.subscribe(`${base}.rr`, { callback: callbackFor((msg, answer) => msg.respond(answer)) });
  let handled = 0;
  let allDone: (() => void) | undefined;
  nc.subscribe(`${base}.ph`, {
    callback: callbackFor(() => {
      if (++handled === MESSAGES) allDone?.();
    }),
  });
  await nc.flush();
  const request =
    variant === 'dcontext'
      ? () => requestWithContext(nc, `${base}.rr`, payload, { timeout: 5000 })
      : () => nc.request(`${base}.rr`, payload, { timeout: 5000, ...opts() });
  const publish =
    variant === 'dcontext'
      ? () => publishWithContext(nc, `${base}.ph`, payload)
      : () => nc.publish(`${base}.ph`, payload, opts());
  const requestChunk = () =>
    enter(async () => {
      for (let i = 0; i < REQUESTS; i++) await request();
    });
  const publishChunk = async () => {
    handled = 0;
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    enter(() => {
      for (let i = 0; i < MESSAGES; i++) publish();
    });
    await done;
  };
  const none = { wallUs: 0, cpuUs: 0 };
  const requestReply =
    task.only === 'publishHandle' ? none : await timeChunks(requestChunk, task, REQUESTS);
  const publishHandle =
    task.only === 'requestReply' ? none : await timeChunks(publishChunk, task, MESSAGES);
  await nc.drain();
  return { requestReply, publishHandle };
}

const PROCESSES = quick ? 2 : 6;
const WARM = quick ? 40 : 120;
const CHUNKS = quick ? 20 : 60;
const self = fileURLToPath(import.meta.url);
const runs = new Map<Variant, NatsResult[]>(VARIANTS.map((v) => [v, []]));
for (let round = 0; round < PROCESSES; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) {
    const job = { variant, warmChunks: WARM, chunks: CHUNKS } satisfies NatsJob;
    runs.get(variant)!.push(await runChild<NatsResult>(self, job));
  }
}
const series = (v: Variant, pick: (r: NatsResult) => number) => runs.get(v)!.map(pick);
const rows = (pick: (r: NatsResult) => number) =>
  VARIANTS.map((v) => {
    const values = series(v, pick);
    return { label: v, nsPerOp: median(values), spread: spreadPercent(values, median(values)) };
  });
const shape = `median of ${PROCESSES} processes each, ${CHUNKS} chunks after ${WARM} warm-up chunks`;
const tables = [
  ['request/reply round trip, wall time', (r: NatsResult) => r.requestReply.wallUs * 1000],
  ['request/reply, CPU time of the process', (r: NatsResult) => r.requestReply.cpuUs * 1000],
  ['publish + handle per message, wall time', (r: NatsResult) => r.publishHandle.wallUs * 1000],
  ['publish + handle, CPU time of the process', (r: NatsResult) => r.publishHandle.cpuUs * 1000],
] as const;
for (const [title, pick] of tables) {
  printTable(`NATS ${title} (${shape})`, rows(pick), {
    baseline: 'plain',
    subject: 'dcontext',
    ratioHeader: '× plain',
  });
}
const med = (v: Variant, pick: (r: NatsResult) => number) => median(series(v, pick));
const rrWall = (r: NatsResult) => r.requestReply.wallUs;
const phWall = (r: NatsResult) => r.publishHandle.wallUs;
const rrPlain = med('plain', rrWall);
const rrContext = med('dcontext', rrWall);
const phPlain = med('plain', phWall);
const phContext = med('dcontext', phWall);
const base = `bench.${process.pid}`;
initialize(builder);

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
// Informational: against NATS carrying the same header bytes, and against the by-hand ALS.
console.log(
  `(dcontext against plain NATS with the same header bytes: request/reply ${(rrContext / med('same header', rrWall)).toFixed(2)}x, publish + handle ${(phContext / med('same header', phWall)).toFixed(2)}x; against the by-hand AsyncLocalStorage: ${(rrContext / med('by hand', rrWall)).toFixed(2)}x, ${(phContext / med('by hand', phWall)).toFixed(2)}x)`,
);
