// Sync scheduling: the synchronous store does not follow callbacks by itself (it installs no
// hooks); syncCtx.setImmediate / setTimeout / queueMicrotask / bind carry its context into them.
// asyncCtx follows the plain functions by itself.
// Run: node --import tsx examples/sync-scheduling.ts
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { asyncCtx, initialize, RegistryBuilder, syncCtx } from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

const seen: Record<string, unknown> = {};
const record = (label: string) => () => {
  seen[label] = syncCtx.get(requestId);
};

syncCtx.scope('job', () => {
  syncCtx.set(requestId, 'req-sync');
  setTimeout(record('plain setTimeout'), 1);
  syncCtx.setTimeout(record('syncCtx.setTimeout'), 1);
  syncCtx.setImmediate(record('syncCtx.setImmediate'));
  syncCtx.queueMicrotask(record('syncCtx.queueMicrotask'));
  process.nextTick(syncCtx.bind(record('syncCtx.bind + process.nextTick')));
});
await sleep(10);
for (const [label, value] of Object.entries(seen)) console.log(`${label.padEnd(34)} -> ${value}`);
assert.deepEqual(seen, {
  'syncCtx.bind + process.nextTick': 'req-sync',
  'syncCtx.queueMicrotask': 'req-sync',
  'syncCtx.setImmediate': 'req-sync',
  'plain setTimeout': undefined,
  'syncCtx.setTimeout': 'req-sync',
});

const followed = await asyncCtx.scope('job', () => {
  asyncCtx.set(requestId, 'req-async');
  return new Promise((resolve) => setTimeout(() => resolve(asyncCtx.get(requestId)), 1));
});
console.log(`${'asyncCtx, plain setTimeout'.padEnd(34)} -> ${followed}`);
assert.equal(followed, 'req-async');
