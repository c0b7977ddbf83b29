// Cross-process: serialize the context in one Node process, restore it in a child process,
// and take the child's context back. The wire form is a base64url string here (an environment
// variable), the same as an HTTP header would carry.
// Run: node --import tsx examples/cross-process.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deserialize, get, scope, serializeToString, set, withContext } from 'dcontext';
import { dbConnection, deadline, requestId, tenant, user } from './support/checkout-keys.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./support/cross-process-child.ts', import.meta.url));

await scope('http', () =>
  scope('checkout', async () => {
    set(requestId, 'req-7f3a9c2e');
    set(tenant, 'acme');
    set(user, { id: 'u-42', roles: ['buyer'] });
    set(deadline, new Date('2030-01-01T00:00:00.000Z'));
    set(dbConnection, 'pg-pool#3');

    const header = serializeToString();
    console.log(`parent sends ${header.length} characters: ${header}`);

    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, DCONTEXT: header },
    });
    process.stderr.write(stderr);
    const { seen, reply } = JSON.parse(stdout) as { seen: unknown; reply: string };

    assert.deepEqual(seen, {
      requestId: 'req-7f3a9c2e',
      tenant: 'acme',
      user: { id: 'u-42', roles: ['buyer'] },
      deadline: '2030-01-01T00:00:00.000Z',
      dbConnection: '(not sent: local-only)',
      // The parent's chain is the prefix of the child's.
      scopeChain: ['http', 'checkout', 'charge-card'],
    });

    // Continue in the context the child sent back.
    await withContext(deserialize(reply), () => {
      console.log(`parent continues in the child's context: tenant=${get(tenant)}`);
      assert.equal(get(tenant), 'acme/billing');
      assert.equal(get(dbConnection), undefined);
    });
    assert.equal(get(dbConnection), 'pg-pool#3');
    console.log('ok: context crossed into a child process and back');
  }),
);
