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
    };
  })
  .then(async (inScope) => {
    const result = {
      name: pkg.name,
      outside: dcontext.get(requestId) ?? null,
      ...inScope,
      viaWorker: await viaWorker,
      messaging: { bullmq: typeof bullmq.withJobContext, nats: typeof nats.handleWithContext },
    };
    console.log(JSON.stringify(result));
  });
`;

export const esm = `
import * as dcontext from 'dcontext';
import * as worker from 'dcontext/worker';
import * as log from 'dcontext/log';
import * as http from 'dcontext/http';
import * as otel from 'dcontext/otel';
import * as api from '@opentelemetry/api';
import * as bullmq from 'dcontext/bullmq';
import * as nats from 'dcontext/nats';
import pkg from 'dcontext/package.json' with { type: 'json' };
import { MessageChannel } from 'node:worker_threads';
${roundTrip}`;

export const cjs = `
const dcontext = require('dcontext');
const worker = require('dcontext/worker');
const log = require('dcontext/log');
const http = require('dcontext/http');
const otel = require('dcontext/otel');
const api = require('@opentelemetry/api');
const bullmq = require('dcontext/bullmq');
const nats = require('dcontext/nats');
const pkg = require('dcontext/package.json');
const { MessageChannel } = require('node:worker_threads');
${roundTrip}`;

/** Type-checked (never run) as ESM (.ts) and as CommonJS (.cts). */
export const typescript = `
import { DContextError, RegistryBuilder, Snapshot, get, initialize, scope, serialize, set } from 'dcontext';
import { errorContext, type FailedWorkContext } from 'dcontext/worker';
import { logFields, pinoMixin, winstonFormat } from 'dcontext/log';
import { expressContext, httpContext, injectHeaders } from 'dcontext/http';
import { DContextManager, DContextPropagator, traceFields, type TraceFields } from 'dcontext/otel';

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
export const format = winstonFormat({ scopeField: false });
export const fields: Record<string, unknown> = logFields(Snapshot.empty());
export const manager = new DContextManager().enable();
export const propagator = new DContextPropagator({ accept: [requestId], send: 'all' });
export const spanIds: Partial<TraceFields> = traceFields();

export function contextOf(error: unknown): Snapshot | undefined {
  // One Snapshot class for both subpaths: the worker's snapshot is a 'dcontext' Snapshot.
  const failed: FailedWorkContext | undefined = errorContext(error);
  if (error instanceof DContextError) return Snapshot.empty();
  return failed?.snapshot;
}
`;
