// Started by the demo with spawnWithContext: the spawner's context is this thread's root.
import { parentPort, threadId } from 'node:worker_threads';
import { get, scopeChain } from 'dcontext';
import { requestId, tenant } from './demo-keys.mjs';

parentPort.postMessage({
  threadId,
  requestId: get(requestId),
  tenant: get(tenant),
  chain: scopeChain(),
});
