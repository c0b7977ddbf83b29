/**
 * One hello-world server for bench/http.bench.ts, in a process of its own:
 * `node --import tsx http-server.ts <variant>`. Prints `listening <port>` once ready.
 *
 * Every variant with context support puts the request id and two more values into its context
 * per request and the handler reads all three - what a request-context library is for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const variant = process.argv[2] ?? 'node:bare';
// The built package, as users run it (`npm run build` first); BENCH_DCONTEXT=src for the
// sources through tsx, whose esbuild `keepNames` re-names every closure made per request.
const fromSources = process.env.BENCH_DCONTEXT === 'src';
const loadCore = async () =>
  (fromSources
    ? await import('../../src/index.js')
    : await import('dcontext')) as typeof import('../../src/index.js');
const loadHttp = async () =>
  (fromSources
    ? await import('../../src/integrations/http/index.js')
    : await import('dcontext/http')) as typeof import('../../src/integrations/http/index.js');
const HELLO = 'hello world';

function ready(server: http.Server): void {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
}

async function nodeServer(): Promise<void> {
  let listener: http.RequestListener;
  if (variant === 'node:bare') {
    listener = (_req, res) => res.end(HELLO);
  } else if (variant === 'node:dcontext' || variant === 'node:dcontext-plain') {
    const { get, initialize, RegistryBuilder } = await loadCore();
    const { httpContext } = await loadHttp();
    const builder = new RegistryBuilder();
    const requestId = builder.register<string>('request_id');
    const tenant = builder.register<string>('tenant');
    const user = builder.register<string>('user');
    initialize(builder);
    const plain = variant === 'node:dcontext-plain';
    listener = httpContext(
      (_req, res) => {
        if (get(requestId) === undefined || get(tenant) === undefined || get(user) === undefined)
          throw new Error('context missing');
        res.end(HELLO);
      },
      plain
        ? { requestId: { key: requestId }, headers: { 'x-tenant': tenant, 'x-user': user } }
        : { requestId: { key: requestId }, accept: [tenant, user] },
    );
  } else if (variant === 'node:cls-rtracer') {
    const rTracer = (await import('cls-rtracer')).default;
    const middleware = rTracer.expressMiddleware({ useHeader: true, headerName: 'x-request-id' });
    listener = (req, res) =>
      middleware(req, res, () => {
        if (rTracer.id() === undefined) throw new Error('context missing');
        res.end(HELLO);
      });
  } else if (variant === 'node:otel') {
    const { ROOT_CONTEXT, context, createContextKey } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const [rid, tenant, user] = ['request_id', 'tenant', 'user'].map((n) =>
      createContextKey(n),
    ) as [symbol, symbol, symbol];
    listener = (req, res) => {
      const ctx = ROOT_CONTEXT.setValue(rid, req.headers['x-request-id'])
        .setValue(tenant, req.headers['x-tenant'])
        .setValue(user, req.headers['x-user']);
      context.with(ctx, () => {
        const active = context.active();
        if (active.getValue(rid) === undefined || active.getValue(user) === undefined)
          throw new Error('context missing');
        res.end(HELLO);
      });
    };
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
  const server = http.createServer({ keepAliveTimeout: 60_000 }, listener);
  server.listen(0, '127.0.0.1', () => ready(server));
}

async function fastifyServer(): Promise<void> {
  const Fastify = (await import('fastify')).default;
  const app = Fastify({ keepAliveTimeout: 60_000 });
  let check: () => boolean = () => true;
  if (variant === 'fastify:dcontext' || variant === 'fastify:dcontext-plain') {
    const { get, initialize, RegistryBuilder } = await loadCore();
    const { fastifyContext } = await loadHttp();
    const builder = new RegistryBuilder();
    const requestId = builder.register<string>('request_id');
    const tenant = builder.register<string>('tenant');
    const user = builder.register<string>('user');
    initialize(builder);
    await app.register(
      fastifyContext,
      variant === 'fastify:dcontext-plain'
        ? { requestId: { key: requestId }, headers: { 'x-tenant': tenant, 'x-user': user } }
        : { requestId: { key: requestId }, accept: [tenant, user] },
    );
    check = () =>
      get(requestId) !== undefined && get(tenant) !== undefined && get(user) !== undefined;
  } else if (variant === 'fastify:request-context') {
    const { fastifyRequestContext, requestContext } = await import('@fastify/request-context');
    await app.register(fastifyRequestContext);
    app.addHook('onRequest', (request, _reply, done) => {
      requestContext.set('requestId' as never, request.headers['x-request-id'] as never);
      requestContext.set('tenant' as never, request.headers['x-tenant'] as never);
      requestContext.set('user' as never, request.headers['x-user'] as never);
      done();
    });
    check = () =>
      requestContext.get('requestId' as never) !== undefined &&
      requestContext.get('user' as never) !== undefined;
  } else if (variant === 'fastify:cls-rtracer') {
    const rTracer = (await import('cls-rtracer')).default;
    await app.register(rTracer.fastifyPlugin, { useHeader: true, headerName: 'x-request-id' });
    check = () => rTracer.id() !== undefined;
  } else if (variant === 'fastify:otel') {
    const { ROOT_CONTEXT, context, createContextKey } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const [rid, tenant, user] = ['request_id', 'tenant', 'user'].map((n) =>
      createContextKey(n),
    ) as [symbol, symbol, symbol];
    app.addHook('onRequest', (request, _reply, done) => {
      const ctx = ROOT_CONTEXT.setValue(rid, request.headers['x-request-id'])
        .setValue(tenant, request.headers['x-tenant'])
        .setValue(user, request.headers['x-user']);
      context.with(ctx, done);
    });
    check = () => context.active().getValue(rid) !== undefined;
  } else if (variant !== 'fastify:bare') {
    throw new Error(`unknown variant ${variant}`);
  }
  app.get('/', async () => {
    if (!check()) throw new Error('context missing');
    return HELLO;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  ready(app.server);
}

await (variant.startsWith('node:') ? nodeServer() : fastifyServer());
