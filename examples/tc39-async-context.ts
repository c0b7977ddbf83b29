// The TC39 AsyncContext API on dcontext's store: variables that follow the async flow, a
// snapshot taken when a listener subscribes, and a variable that crosses a process boundary.
// Run: node --import tsx examples/tc39-async-context.ts
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { deserialize, get, initialize, RegistryBuilder, serialize, withContext } from 'dcontext';
import { AsyncContext } from 'dcontext/async-context';

// Typed keys are registered once; the variable backed by `traceKey` goes on the wire.
const builder = new RegistryBuilder();
const traceKey = builder.register<string>('trace_id');
initialize(builder);

// Plain variables may be created at any time, even after initialize().
const user = new AsyncContext.Variable<string>({ name: 'user', defaultValue: 'anonymous' });
const attempt = new AsyncContext.Variable<number>({ name: 'attempt', defaultValue: 0 });
const traceId = new AsyncContext.Variable<string>({ key: traceKey });

const events = new EventEmitter();
const audit: string[] = [];

async function handle(name: string, trace: string): Promise<string> {
  return traceId.run(trace, () =>
    user.run(name, async () => {
      // A listener added here runs in this request's context, whoever emits.
      events.once(
        `done:${name}`,
        AsyncContext.Snapshot.wrap(() => audit.push(`${user.get()}@${get(traceKey)}`)),
      );
      for (let i = 1; i <= 2; i++) {
        await attempt.run(i, async () => {
          await sleep(Math.random() * 10);
          assert.equal(attempt.get(), i);
        });
      }
      assert.equal(attempt.get(), 0); // back to the default outside each run
      const header = serialize(); // carries trace_id (the key-backed variable), never `user`
      return withContext(deserialize(header), () => `${user.get()} ${traceId.get()}`);
    }),
  );
}

const results = await Promise.all([handle('ada', 't-1'), handle('grace', 't-2')]);
console.log(results);
assert.deepEqual(results, ['anonymous t-1', 'anonymous t-2']);

events.emit('done:grace');
events.emit('done:ada');
console.log(audit);
assert.deepEqual(audit, ['grace@t-2', 'ada@t-1']);
assert.equal(user.get(), 'anonymous');
