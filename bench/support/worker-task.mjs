// Piscina task file of bench/worker.bench.ts: the same trivial task, plain and context-aware.
import { get } from 'dcontext';
import { withTaskContext } from 'dcontext/worker';
import { requestId } from './worker-keys.mjs';

export function plain(n) {
  return n + 1;
}

// Reads one key, as real task code would: the entry is decoded on that first read.
export const withContext = withTaskContext((n) => (get(requestId) === undefined ? -1 : n + 1));
