// The worker of the conformance suite: adopts the spawner's context, answers one message with
// what it sees, then echoes a message's context back.
import { parentPort } from 'node:worker_threads';
import { get, initialize, RegistryBuilder, scopeChain } from '../../dist/index.js';
import { onMessageWithContext, postWithContext } from '../../dist/worker.js';

const builder = new RegistryBuilder();
const requestId = builder.register('request_id');
initialize(builder);

parentPort.postMessage({
  kind: 'spawned',
  requestId: get(requestId) ?? null,
  scopeChain: scopeChain(),
});
onMessageWithContext(parentPort, (message) => {
  postWithContext(parentPort, { kind: 'echo', message, requestId: get(requestId) ?? null });
});
