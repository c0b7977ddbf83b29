// A worker process that takes one job, reports what it sees, and hangs until it is killed: the
// job stalls, and BullMQ's stalled-job check hands it to another worker.
import { Worker } from 'bullmq';
import { initialize, scopeChain, tryGet } from '../../../../src/index.js';
import { withJobContext } from '../../../../src/integrations/bullmq/index.js';
import { builder, connection, requestId, tenant } from './setup.js';

initialize(builder);
const queue = process.argv[2] ?? '';
new Worker(
  queue,
  withJobContext(async () => {
    process.stdout.write(
      `${JSON.stringify({ requestId: tryGet(requestId), tenant: tryGet(tenant), chain: scopeChain() })}\n`,
    );
    await new Promise(() => {}); // never settles: killed mid-job
  }),
  // Every worker's stalled check holds a key for stalledInterval: keep it short here too.
  { connection, lockDuration: 1000, stalledInterval: 300 },
);
