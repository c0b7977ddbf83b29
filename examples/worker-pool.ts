// Worker pool: tasks submitted to Piscina with runWithContext run in their submitter's context,
// however many requests share the pool; a failed task's error says which request it belonged to.
// Run: npm run build && node --import tsx examples/worker-pool.ts
// (the task file imports the built package: Node 20 cannot load TypeScript in a worker)
import assert from 'node:assert/strict';
import { initialize, RegistryBuilder, scope, set } from 'dcontext';
import { errorContext, runWithContext } from 'dcontext/worker';
import { Piscina } from 'piscina';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
const tenant = builder.register<string>('tenant');
initialize(builder);

const pool = new Piscina({
  filename: new URL('./support/pool-worker.mjs', import.meta.url).href,
  maxThreads: 2,
  concurrentTasksPerWorker: 4,
});

async function handle(id: string, customer: string): Promise<string[]> {
  return scope('http', () => {
    set(requestId, id);
    set(tenant, customer);
    return scope('render', () =>
      Promise.all([1, 2, 3].map((page) => runWithContext<string>(pool, { page }))),
    );
  });
}

const requests = [
  ['req-1', 'acme'],
  ['req-2', 'globex'],
  ['req-3', 'initech'],
  ['req-4', 'umbrella'],
] as const;
const results = await Promise.all(requests.map(([id, customer]) => handle(id, customer)));
results.forEach((lines, i) => {
  for (const line of lines) {
    console.log(line);
    assert.match(line, new RegExp(`for ${requests[i]![0]} \\(${requests[i]![1]}\\)`));
  }
});

const failure = await scope('http', () => {
  set(requestId, 'req-5');
  set(tenant, 'acme');
  return runWithContext(pool, { page: -1 }).catch((error: unknown) => error);
});
console.log(`failed task: ${(failure as Error).message}; it belonged to`, errorContext(failure));
assert.equal(errorContext(failure)?.values.request_id, 'req-5');

await pool.destroy();
