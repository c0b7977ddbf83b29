/**
 * A worker process killed mid-job: BullMQ's stalled-job recovery runs the job again in another
 * worker, with the context it was added in.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initialize, scope, scopeChain, set, tryGet } from '../../../src/index.js';
import { addWithContext, withJobContext } from '../../../src/integrations/bullmq/index.js';
import { builder, connection, queueName, requestId, tenant } from './support/setup.js';

beforeAll(() => initialize(builder));
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

it('a job whose worker process was killed runs again, in another worker, with the original context', async () => {
  const q = new Queue(queueName('stalled'), { connection });
  closers.push(async () => {
    await q.obliterate({ force: true });
    await q.close();
  });
  await scope('request', async () => {
    set(requestId, 'r-stalled');
    set(tenant, 'acme');
    await addWithContext(q, 'work', { id: 1 });
  });

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./support/stalled-worker.ts', import.meta.url)),
      q.name,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout.setEncoding('utf8');
  const [line] = (await once(child.stdout, 'data')) as [string];
  const firstRun = JSON.parse(line.trim());
  child.kill('SIGKILL');
  await once(child, 'exit');

  let resolve!: (value: unknown) => void;
  const secondRun = new Promise((r) => {
    resolve = r;
  });
  const worker = new Worker(
    q.name,
    withJobContext(async (job) => {
      resolve({
        requestId: tryGet(requestId),
        tenant: tryGet(tenant),
        chain: scopeChain(),
        stalled: job.stalledCounter,
      });
    }),
    { connection, stalledInterval: 300, lockDuration: 1000 },
  );
  closers.push(() => worker.close());

  const expected = { requestId: 'r-stalled', tenant: 'acme', chain: ['request', `job:${q.name}`] };
  expect(firstRun).toEqual(expected);
  expect(await secondRun).toEqual({ ...expected, stalled: 1 });
});
