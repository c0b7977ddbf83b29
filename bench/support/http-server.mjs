/**
 * One hello-world server for bench/http.bench.ts, in a process of its own, started with an IPC
 * channel: `node http-server.mjs <variant>`. Sends `{ port }` once listening; answers each
 * `'usage'` message with `{ user, system, served }`: the process's CPU time so far (µs) and the
 * requests answered so far, so the bench can charge each variant the CPU time it spent per
 * request, whatever the load generator managed to send.
 *
 * Plain JavaScript run by plain Node: `dcontext` resolves to the build in dist/, as users load
 * it (under tsx, tsconfig's `paths` would map it to src/). `BENCH_DCONTEXT=src` loads the sources
 * instead; start the process with `--import tsx` for that.
 *
 * Every variant with context support does the same work per request: it puts the request id
 * (from `x-request-id`, or a generated one) and two more values (tenant, user) into its context,
 * echoes the id in the `x-request-id` response header, and the handler reads the values back.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const given = process.argv[2] ?? 'node:bare';
// `<variant>@compare`: the same variant on another build (BENCH_DCONTEXT_COMPARE, a dist/ directory).
const compare = given.endsWith('@compare');
const variant = compare ? given.slice(0, -'@compare'.length) : given;
const fromSources = process.env.BENCH_DCONTEXT === 'src';
const otherBuild = (file) => pathToFileURL(`${process.env.BENCH_DCONTEXT_COMPARE}/${file}`).href;
const loadCore = () =>
  import(compare ? otherBuild('index.js') : fromSources ? '../../src/index.ts' : 'dcontext');
const loadHttp = () =>
  import(
    compare
      ? otherBuild('http.js')
      : fromSources
        ? '../../src/integrations/http/index.ts'
        : 'dcontext/http'
  );
const HELLO = 'hello world';
const ID = 'x-request-id';
let served = 0;

process.on('message', (message) => {
  if (message !== 'usage') return;
  const { user, system } = process.cpuUsage();
  process.send?.({ user, system, served });
});
// The bench ends a server by closing the IPC channel.
process.on('disconnect', () => process.exit(0));

function fail() {
  throw new Error('context missing');
}

/** dcontext's registry: the request id and two keys that the context header may set. */
async function dcontextKeys() {
  const { get, initialize, RegistryBuilder } = await loadCore();
  const builder = new RegistryBuilder();
  const requestId = builder.register('request_id');
  const tenant = builder.register('tenant');
  const user = builder.register('user');
  initialize(builder);
  return { get, requestId, tenant, user };
}

/** The two dcontext ingress configurations: keys from `x-dcontext`, or from plain headers. */
function dcontextOptions(keys, plain) {
  return plain
    ? {
        requestId: { key: keys.requestId },
        headers: { 'x-tenant': keys.tenant, 'x-user': keys.user },
      }
    : { requestId: { key: keys.requestId }, accept: [keys.tenant, keys.user] };
}

/** OpenTelemetry's context API with its AsyncLocalStorage context manager, used by hand. */
async function otel() {
  const { ROOT_CONTEXT, context, createContextKey } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const [rid, tenant, user] = ['request_id', 'tenant', 'user'].map((n) => createContextKey(n));
  /** The context of one request, and the id to echo. */
  const contextOf = (headers) => {
    const id = headers[ID] ?? randomUUID();
    return ROOT_CONTEXT.setValue(rid, id)
      .setValue(tenant, headers['x-tenant'])
      .setValue(user, headers['x-user']);
  };
  const check = () => {
    const active = context.active();
    return (
      active.getValue(rid) !== undefined &&
      active.getValue(tenant) !== undefined &&
      active.getValue(user) !== undefined
    );
  };
  return { context, contextOf, rid, check };
}

async function nodeServer() {
  let listener;
  if (variant === 'node:bare') {
    listener = (_req, res) => {
      served++;
      res.end(HELLO);
    };
  } else if (variant === 'node:dcontext' || variant === 'node:dcontext-plain') {
    const keys = await dcontextKeys();
    const { get, requestId, tenant, user } = keys;
    const { httpContext } = await loadHttp();
    listener = httpContext(
      (_req, res) => {
        served++;
        if (get(requestId) === undefined || get(tenant) === undefined || get(user) === undefined)
          fail();
        res.end(HELLO);
      },
      dcontextOptions(keys, variant === 'node:dcontext-plain'),
    );
  } else if (variant === 'node:cls-rtracer') {
    const rTracer = (await import('cls-rtracer')).default;
    // Its `echoHeader` needs Express's `res.set`: the handler echoes the id itself.
    const middleware = rTracer.expressMiddleware({ useHeader: true, headerName: ID });
    listener = (req, res) =>
      middleware(req, res, () => {
        const id = rTracer.id();
        if (id === undefined) fail();
        res.setHeader(ID, id);
        served++;
        res.end(HELLO);
      });
  } else if (variant === 'node:otel') {
    const { context, contextOf, rid, check } = await otel();
    listener = (req, res) => {
      context.with(contextOf(req.headers), () => {
        res.setHeader(ID, context.active().getValue(rid));
        served++;
        if (!check()) fail();
        res.end(HELLO);
      });
    };
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
  const server = http.createServer({ keepAliveTimeout: 60_000 }, listener);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function fastifyServer() {
  const Fastify = (await import('fastify')).default;
  const app = Fastify({ keepAliveTimeout: 60_000 });
  let check = () => true;
  if (variant === 'fastify:dcontext' || variant === 'fastify:dcontext-plain') {
    const keys = await dcontextKeys();
    const { get, requestId, tenant, user } = keys;
    const { fastifyContext } = await loadHttp();
    await app.register(fastifyContext, dcontextOptions(keys, variant === 'fastify:dcontext-plain'));
    check = () =>
      get(requestId) !== undefined && get(tenant) !== undefined && get(user) !== undefined;
  } else if (variant === 'fastify:request-context') {
    const { fastifyRequestContext, requestContext } = await import('@fastify/request-context');
    await app.register(fastifyRequestContext);
    app.addHook('onRequest', (request, reply, done) => {
      const id = request.headers[ID] ?? randomUUID();
      requestContext.set('requestId', id);
      requestContext.set('tenant', request.headers['x-tenant']);
      requestContext.set('user', request.headers['x-user']);
      reply.header(ID, id);
      done();
    });
    check = () =>
      requestContext.get('requestId') !== undefined &&
      requestContext.get('tenant') !== undefined &&
      requestContext.get('user') !== undefined;
  } else if (variant === 'fastify:cls-rtracer') {
    const rTracer = (await import('cls-rtracer')).default;
    await app.register(rTracer.fastifyPlugin, {
      useHeader: true,
      headerName: ID,
      echoHeader: true,
    });
    check = () => rTracer.id() !== undefined;
  } else if (variant === 'fastify:otel') {
    const otelContext = await otel();
    const { context, contextOf, rid } = otelContext;
    app.addHook('onRequest', (request, reply, done) => {
      const ctx = contextOf(request.headers);
      reply.header(ID, ctx.getValue(rid));
      context.with(ctx, done);
    });
    check = otelContext.check;
  } else if (variant !== 'fastify:bare') {
    throw new Error(`unknown variant ${variant}`);
  }
  app.get('/', async () => {
    served++;
    if (!check()) fail();
    return HELLO;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

const server = await (variant.startsWith('node:') ? nodeServer() : fastifyServer());
const { port } = server.address();
// Started by hand (no IPC channel, e.g. to profile it with --cpu-prof): print the port instead.
if (process.send === undefined) {
  console.log(`listening ${port}`);
  process.on('SIGTERM', () => process.exit(0));
} else process.send({ port });
