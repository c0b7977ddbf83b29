// Started by examples/cross-thread.ts: reads the spawner's context from its first line.
import { parentPort, workerData } from 'node:worker_threads';
import { asyncCtx, get, scopeChain, serializeToString, syncCtx } from 'dcontext';
import { requestId, session, tenant } from './worker-keys.mjs';

parentPort.postMessage({
  workerData,
  requestId: get(requestId),
  tenant: get(tenant),
  session: get(session),
  chain: scopeChain(),
  sameInBothStores: syncCtx.get(requestId) === asyncCtx.get(requestId),
  // What this worker would send downstream (an HTTP header, say): keys it does not know ride along.
  onward: serializeToString(),
});
