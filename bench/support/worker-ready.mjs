// Start-up bench: a worker that initializes dcontext and says it is ready.
import { parentPort } from 'node:worker_threads';
import { get } from 'dcontext';
import { requestId } from './worker-keys.mjs';

parentPort.postMessage(get(requestId) ?? null);
