// The files of the temporary project that installs the packed tarball (see pack.test.ts): what a
// user writes against `dcontext`, from ESM, CommonJS and TypeScript.

/** One program body for ESM and CommonJS: a scope/set/get/serialize round trip through each subpath. */
const roundTrip = `
const builder = new dcontext.RegistryBuilder();
const requestId = builder.register('request_id');
const tenant = builder.register('tenant', { metadata: { log: true } });
dcontext.initialize(builder);

const manager = new otel.DContextManager();
const otelKey = api.createContextKey('consumer');

const { port1, port2 } = new MessageChannel();
const viaWorker = new Promise((resolve) => {
  // Registered outside every scope: the handler sees the sender's context from the message.
  const stop = worker.onMessageWithContext(port2, (message) => {
    stop();
    port2.close();
    resolve({ message, requestId: dcontext.get(requestId), scopeChain: dcontext.scopeChain() });
  });
});

dcontext
  .scope('request', async () => {
    dcontext.set(requestId, 'req-1');
    dcontext.set(tenant, 'acme');
    worker.postWithContext(port1, 'ping');
    // One store for both APIs: the variable's run is a scope that sees the typed keys.
    const variable = new tc39.AsyncContext.Variable({ name: 'v' });
    const captured = variable.run('v1', () => new tc39.AsyncContext.Snapshot());
    const tc39Seen = captured.run(() => ({ variable: variable.get(), requestId: dcontext.get(requestId) }));
    const channel = tracingChannel('consumer:' + Math.random());
    const unbind = channels.bindChannel(channel, () => ({ tenant: 'traced-tenant' }), { name: 'traced' });
    const traced = channel.traceSync(() => ({ requestId: dcontext.get(requestId), scopeChain: dcontext.scopeChain(), tenant: dcontext.get(tenant) }), {});
    unbind();
    const received = dcontext.deserialize(dcontext.serialize());
    return {
      header: dcontext.serializeToString(),
      logged: { ...log.logFields() },
      outgoing: Object.keys(http.injectHeaders({})),
      // dcontext/otel: OpenTelemetry's context and dcontext's scopes in one store.
      otel: manager.with(api.ROOT_CONTEXT.setValue(otelKey, 'v'), () =>
        dcontext.scope('inner', () => ({
          value: manager.active().getValue(otelKey),
          scopeChain: dcontext.scopeChain(),
          traceFields: otel.traceFields(),
        })),
      ),
      deserialized: { requestId: received.get(requestId), scopeChain: received.scopeChain },
      tc39: { ...tc39Seen, outside: variable.get() ?? null },
      traced,
    };
  })
  .then(async (inScope) => {
    const store = new shared.MemoryContextStore();
    await shared.withShared(store, 'session-1', () => dcontext.set(requestId, 'req-1'));
    const record = await store.get('session-1');
    const result = {
      name: pkg.name,
      outside: dcontext.get(requestId) ?? null,
      ...inScope,
      viaWorker: await viaWorker,
      messaging: { bullmq: typeof bullmq.withJobContext, nats: typeof nats.handleWithContext },
      shared: { version: record.version, requestId: record.entries.get(requestId) },
    };
    console.log(JSON.stringify(result));
  });
`;

export const esm = `
import * as dcontext from 'dcontext';
import * as worker from 'dcontext/worker';
import * as log from 'dcontext/log';
import * as http from 'dcontext/http';
import * as tc39 from 'dcontext/async-context';
import * as channels from 'dcontext/diagnostics-channel';
import { tracingChannel } from 'node:diagnostics_channel';
import * as otel from 'dcontext/otel';
import * as api from '@opentelemetry/api';
import * as bullmq from 'dcontext/bullmq';
import * as nats from 'dcontext/nats';
import * as shared from 'dcontext/shared';
import pkg from 'dcontext/package.json' with { type: 'json' };
import { MessageChannel } from 'node:worker_threads';
${roundTrip}`;

export const cjs = `
const dcontext = require('dcontext');
const worker = require('dcontext/worker');
const log = require('dcontext/log');
const http = require('dcontext/http');
const tc39 = require('dcontext/async-context');
const channels = require('dcontext/diagnostics-channel');
const { tracingChannel } = require('node:diagnostics_channel');
const otel = require('dcontext/otel');
const api = require('@opentelemetry/api');
const bullmq = require('dcontext/bullmq');
const nats = require('dcontext/nats');
const shared = require('dcontext/shared');
const pkg = require('dcontext/package.json');
const { MessageChannel } = require('node:worker_threads');
${roundTrip}`;

/** Type-checked (never run) as ESM (.ts) and as CommonJS (.cts). */
export const typescript = `
import { DContextError, RegistryBuilder, Snapshot, get, initialize, scope, serialize, set } from 'dcontext';
import { errorContext, type FailedWorkContext } from 'dcontext/worker';
import { logFields, pinoMixin, winstonFormat } from 'dcontext/log';
import { expressContext, httpContext, injectHeaders } from 'dcontext/http';
import { AsyncContext } from 'dcontext/async-context';
import { bindChannel, traceUndiciRequests } from 'dcontext/diagnostics-channel';
import { DContextManager, DContextPropagator, traceFields, type TraceFields } from 'dcontext/otel';
import { ContextCache, MemoryContextStore, type SharedContextStore, withShared } from 'dcontext/shared';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

export async function handle(): Promise<Uint8Array> {
  return scope('request', () => {
    set(requestId, 'req-1');
    const id: string | undefined = get(requestId);
    // @ts-expect-error the key's type reaches get: a number is not a string
    const wrong: number | undefined = get(requestId);
    void id;
    void wrong;
    return serialize();
  });
}

export const mixin: () => Record<string, unknown> = pinoMixin();
export const listener = httpContext((_req, res) => res.end('ok'), { accept: ['request_id'] });
export const middleware = expressContext({ requestId: { key: requestId } });
export const headers = injectHeaders({});
export const traceId: AsyncContext.Variable<string> = new AsyncContext.Variable<string>({ name: 'trace' });
export const traced: string | undefined = traceId.run('t1', () => traceId.get());
export const unbindQueries: () => void = bindChannel<{ sql: string }>('db:query', (message) => ({ request_id: message.sql }), { name: 'db:query' });
export const tracing = traceUndiciRequests();
// @ts-expect-error run's value has the variable's type
traceId.run(42, () => {});
export const format = winstonFormat({ scopeField: false });
export const fields: Record<string, unknown> = logFields(Snapshot.empty());
export const manager = new DContextManager().enable();
export const propagator = new DContextPropagator({ accept: [requestId], send: 'all' });
export const spanIds: Partial<TraceFields> = traceFields();

export const sharedStore: SharedContextStore = new ContextCache(new MemoryContextStore(), {
  strategy: 'write-through',
});
export const committed: Promise<number> = withShared(sharedStore, 'session-1', () => 1);

export function contextOf(error: unknown): Snapshot | undefined {
  // One Snapshot class for both subpaths: the worker's snapshot is a 'dcontext' Snapshot.
  const failed: FailedWorkContext | undefined = errorContext(error);
  if (error instanceof DContextError) return Snapshot.empty();
  return failed?.snapshot;
}
`;
