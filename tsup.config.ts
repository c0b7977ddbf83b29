import { defineConfig, type Options } from 'tsup';

const library = {
  index: 'src/index.ts',
  worker: 'src/worker/index.ts',
  log: 'src/integrations/log/index.ts',
  http: 'src/integrations/http/index.ts',
  'async-context': 'src/integrations/async-context/index.ts',
  'diagnostics-channel': 'src/integrations/diagnostics-channel/index.ts',
  otel: 'src/integrations/otel/index.ts',
  bullmq: 'src/integrations/bullmq/index.ts',
  nats: 'src/integrations/nats/index.ts',
  shared: 'src/integrations/shared/index.ts',
};
const common: Options = { sourcemap: true, target: 'node20', splitting: false, clean: false };

export default defineConfig([
  { ...common, entry: library, format: ['esm'], dts: true },
  // superjson ships as ESM only; bundling it into the CommonJS build keeps `require('dcontext')`
  // working on every Node 20, not only on those with require(esm).
  // shims: import.meta.url in CommonJS, for dcontext/nats's lazy require of @nats-io/nats-core.
  { ...common, entry: library, format: ['cjs'], dts: true, noExternal: ['superjson'], shims: true },
  { ...common, entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false },
]);
