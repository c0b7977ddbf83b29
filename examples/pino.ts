// Log enrichment: every pino line carries its own request's id, tenant and scope chain, with no
// logger passed around and no child loggers per request. Keys opt in at registration.
// Run: node --import tsx examples/pino.ts
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { initialize, RegistryBuilder, scope, set } from 'dcontext';
import { pinoMixin } from 'dcontext/log';
import pino from 'pino';

const builder = new RegistryBuilder();
const requestId = builder.register<string>('request_id', { metadata: { log: true } });
const tenant = builder.register<string>('tenant', { metadata: { log: 'tenant_id' } });
// Sensitive keys never reach a log line, whatever else says.
const apiToken = builder.register<string>('api_token', {
  metadata: { log: true, sensitive: true },
});
initialize(builder);

// Lines go to stdout and are kept, to check them at the end.
const lines: Record<string, unknown>[] = [];
const out = new Writable({
  write(chunk, _encoding, done) {
    process.stdout.write(chunk);
    for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
    done();
  },
});
const logger = pino({ mixin: pinoMixin(), base: null, timestamp: false }, out);

async function chargeCard(amount: number): Promise<void> {
  await sleep(Math.random() * 20);
  logger.info({ amount }, 'card charged'); // no request id passed: the mixin adds it
}

async function handle(id: string, customer: string): Promise<void> {
  await scope('http', () =>
    scope('checkout', async () => {
      set(requestId, id);
      set(tenant, customer);
      set(apiToken, 'secret-token');
      logger.info('checkout started');
      await chargeCard(42);
      logger.info('checkout done');
    }),
  );
}

await Promise.all([handle('req-1', 'acme'), handle('req-2', 'globex'), handle('req-3', 'initech')]);
logger.info('outside any request'); // no context fields

assert.equal(lines.length, 10);
for (const line of lines.slice(0, 9)) {
  assert.match(String(line.request_id), /^req-\d$/);
  assert.equal(line.scope, 'http>checkout');
  assert.equal(line.api_token, undefined);
}
const req2 = lines.filter((line) => line.request_id === 'req-2');
assert.deepEqual(
  req2.map((line) => line.tenant_id),
  ['globex', 'globex', 'globex'],
);
console.log('every line carried its own request id and tenant; the token was never logged');
