// The runtime-neutral conformance suite: the built package (dist/), used as a user would, on
// whatever runtime runs this file (Node, Deno, Bun). Plain JavaScript, so every runtime runs it
// as it is. `node test/conformance/run.mjs` / `deno run -A …` / `bun …`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { tracingChannel } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { AsyncContext } from '../../dist/async-context.js';
import { bindChannel } from '../../dist/diagnostics-channel.js';
import {
  bind,
  DContextError,
  deserialize,
  get,
  initialize,
  RegistryBuilder,
  Snapshot,
  scope,
  scopeChain,
  serialize,
  serializeToString,
  set,
  snapshot,
  syncCtx,
  tryGet,
  update,
  withContext,
} from '../../dist/index.js';
import { onMessageWithContext, postWithContext, spawnWithContext } from '../../dist/worker.js';
import { test } from './runner.mjs';

const builder = new RegistryBuilder();
const requestId = builder.register('request_id');
const tenant = builder.register('tenant', { validate: (v) => typeof v === 'string' });
const counter = builder.register('counter', { default: () => 0 });
const when = builder.register('when', { codec: 'superjson' });
const secret = builder.registerLocal('secret');
initialize(builder);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (fn) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof DContextError) return error.code;
    throw error;
  }
  return undefined;
};

test('core verbs: get/set/update/tryGet inside a scope, defaults outside', () => {
  assert.equal(get(requestId), undefined);
  assert.equal(get(counter), 0);
  scope(() => {
    set(requestId, 'r1');
    update(counter, (n) => n + 1);
    assert.equal(get(requestId), 'r1');
    assert.equal(get(counter), 1);
    assert.equal(tryGet('not_registered'), undefined);
  });
  assert.equal(get(requestId), undefined);
});

test('core verbs: typed errors: NO_ACTIVE_SCOPE, TYPE_MISMATCH, NOT_REGISTERED', () => {
  assert.equal(
    codeOf(() => set(requestId, 'x')),
    'NO_ACTIVE_SCOPE',
  );
  assert.equal(
    codeOf(() => scope(() => set(tenant, 42))),
    'TYPE_MISMATCH',
  );
  assert.equal(
    codeOf(() => get('nope')),
    'NOT_REGISTERED',
  );
});

test('scopes and rollback: nested named scopes roll back on return and on throw', async () => {
  await scope('outer', async () => {
    set(requestId, 'outer');
    assert.throws(() =>
      scope('inner', () => {
        set(requestId, 'inner');
        assert.deepEqual(scopeChain(), ['outer', 'inner']);
        throw new Error('boom');
      }),
    );
    assert.equal(get(requestId), 'outer');
    await scope('awaited', async () => {
      set(requestId, 'awaited');
      await sleep(1);
      assert.equal(get(requestId), 'awaited');
    });
    assert.equal(get(requestId), 'outer');
    assert.deepEqual(scopeChain(), ['outer']);
  });
});

test('scopes and rollback: syncCtx scopes and scope guards', () => {
  syncCtx.scope('sync', () => {
    syncCtx.set(requestId, 's1');
    assert.equal(syncCtx.get(requestId), 's1');
    assert.deepEqual(syncCtx.scopeChain(), ['sync']);
  });
  assert.equal(syncCtx.get(requestId), undefined);
  const guard = syncCtx.enterNamedScope('guarded');
  try {
    syncCtx.set(requestId, 'g1');
    assert.deepEqual([get(requestId), scopeChain()], ['g1', ['guarded']]);
  } finally {
    guard.exit();
  }
  assert.equal(guard.isOpen, false);
  assert.equal(syncCtx.get(requestId), undefined);
});

test('snapshots: snapshot, withContext and bind carry values and scope chain', async () => {
  const [captured, bound] = scope('request', () => {
    set(requestId, 'snap');
    const taken = snapshot();
    set(requestId, 'changed-after');
    return [taken, bind(() => [get(requestId), scopeChain()])];
  });
  assert.equal(captured.get(requestId), 'snap');
  assert.deepEqual(
    withContext(captured, () => [get(requestId), scopeChain()]),
    ['snap', ['request']],
  );
  await sleep(1);
  assert.deepEqual(bound(), ['changed-after', ['request']]);
  assert.equal(Snapshot.empty().with(requestId, 'e').get(requestId), 'e');
});

test('isolation: 10,000 interleaved tasks over timers, setImmediate and microtasks', async () => {
  const mismatches = [];
  await Promise.all(
    Array.from({ length: 10_000 }, (_, i) =>
      scope(async () => {
        const id = `t${i}`;
        set(requestId, id);
        await sleep(Math.random() * 3);
        if (get(requestId) !== id) mismatches.push(id);
        await new Promise((resolve) => setImmediate(resolve));
        if (get(requestId) !== id) mismatches.push(id);
        await new Promise((resolve) => queueMicrotask(resolve));
        if (get(requestId) !== id) mismatches.push(id);
        await new Promise((resolve) => process.nextTick(resolve));
        if (get(requestId) !== id) mismatches.push(id);
      }),
    ),
  );
  assert.deepEqual(mismatches, []);
});

test('wire: serialize / deserialize round trip (msgpack and superjson codecs)', () => {
  const date = new Date('2026-01-02T03:04:05Z');
  const [bytes, text] = scope('svc-a', () => {
    set(requestId, 'wire-1');
    set(when, date);
    set(secret, 'never-sent');
    return [serialize(), serializeToString()];
  });
  for (const wire of [bytes, text]) {
    const received = deserialize(wire);
    assert.equal(received.get(requestId), 'wire-1');
    assert.equal(received.get(when).toISOString(), date.toISOString());
    assert.equal(received.get(secret), undefined);
    assert.deepEqual(received.scopeChain, ['svc-a']);
  }
  assert.equal(
    codeOf(() => deserialize('not a context')),
    'DECODE_FAILED',
  );
});

test('workers: spawnWithContext: the worker starts in the spawner context', async () => {
  const worker = await scope('spawner', () => {
    set(requestId, 'w1');
    return spawnWithContext(new URL('./worker.mjs', import.meta.url));
  });
  try {
    const first = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.deepEqual(first, { kind: 'spawned', requestId: 'w1', scopeChain: ['spawner'] });
    // postWithContext / onMessageWithContext, both ways.
    const echoed = new Promise((resolve) => {
      const stop = onMessageWithContext(worker, (message) => {
        stop();
        resolve({ ...message, here: get(requestId) ?? null });
      });
    });
    scope(() => {
      set(requestId, 'w2');
      postWithContext(worker, 'ping');
    });
    assert.deepEqual(await echoed, { kind: 'echo', message: 'ping', requestId: 'w2', here: 'w2' });
  } finally {
    await worker.terminate();
  }
});

test('cli: dcontext decode prints the debug view', () => {
  const header = scope('cli', () => {
    set(requestId, 'cli-1');
    return serializeToString();
  });
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const command =
    typeof globalThis.Deno !== 'undefined'
      ? [globalThis.Deno.execPath(), ['run', '-A', cli, 'decode', header]]
      : [process.execPath, [cli, 'decode', header]];
  const output = execFileSync(command[0], command[1], { encoding: 'utf8' });
  assert.match(output, /cli-1/);
  assert.match(output, /request_id/);
});

test('async-context: AsyncContext.Variable and Snapshot follow awaits and promise registration', async () => {
  const variable = new AsyncContext.Variable({ name: 'v', defaultValue: 'none' });
  const captured = variable.run('one', () => new AsyncContext.Snapshot());
  assert.equal(
    captured.run(() => variable.get()),
    'one',
  );
  const seen = await variable.run('two', async () => {
    await sleep(1);
    return variable.get();
  });
  assert.equal(seen, 'two');
  let resolve;
  const gate = variable.run('created', () => new Promise((r) => (resolve = r)));
  const reaction = variable.run('registered', () => gate.then(() => variable.get()));
  variable.run('resolved', () => resolve());
  assert.equal(await reaction, 'registered');
  assert.equal(variable.get(), 'none');
});

test('diagnostics-channel: bindChannel runs a traced operation in a child scope', async () => {
  const channel = tracingChannel(`conformance:${Math.random()}`);
  const unbind = bindChannel(channel, (message) => ({ tenant: message.tenant }), { name: 'op' });
  try {
    const seen = await scope('caller', async () => {
      set(requestId, 'dc-1');
      return channel.tracePromise(
        async () => {
          await sleep(1);
          return [get(requestId), get(tenant), scopeChain()];
        },
        { tenant: 'acme' },
      );
    });
    assert.deepEqual(seen, ['dc-1', 'acme', ['caller', 'op']]);
  } finally {
    unbind();
  }
});
