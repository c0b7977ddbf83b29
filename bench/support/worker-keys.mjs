// The 10-key registry of bench/worker.bench.ts, for its worker threads. Worker files import the
// built package (`npm run build` first): Node 20 cannot load TypeScript in a worker.
import { initialize, RegistryBuilder } from 'dcontext';

const builder = new RegistryBuilder();
export const requestId = builder.register('request_id');
for (const name of ['tenant', 'user', 'flags', 'deadline', 'trace_id', 'span_id', 'locale']) {
  builder.register(name);
}
builder.register('sampled');
builder.register('retry_count');
initialize(builder);
