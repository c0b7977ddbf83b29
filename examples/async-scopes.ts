// Async scopes: context follows await, timers and setImmediate; concurrent requests never mix.
// Run: node --import tsx examples/async-scopes.ts
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, initialize, RegistryBuilder, scope, set } from 'dcontext';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id');
initialize(builder);

async function loadUser(): Promise<string> {
  await sleep(Math.random() * 10);
  return `user loaded for ${get(requestId)}`;
}

async function handle(id: string): Promise<string> {
  return scope('handler', async () => {
    set(requestId, id);
    await sleep(Math.random() * 10);
    const line = await loadUser();
    const viaImmediate = await new Promise<string | undefined>((r) =>
      setImmediate(() => r(get(requestId))),
    );
    assert.equal(viaImmediate, id);
    return line;
  });
}

const lines = await Promise.all(['req-a', 'req-b', 'req-c'].map(handle));
for (const line of lines) console.log(line);
assert.deepEqual(lines, [
  'user loaded for req-a',
  'user loaded for req-b',
  'user loaded for req-c',
]);
