// The child side of examples/cross-process.ts: a job runner that receives its context in an
// environment variable, works inside it, and answers with its own context on stdout.
import { asyncCtx, get, scope, scopeChain, serializeToString, set } from 'dcontext';
import { dbConnection, deadline, requestId, tenant, user } from './checkout-keys.js';

const header = process.env.DCONTEXT;
if (header === undefined) throw new Error('no DCONTEXT in the environment');

await asyncCtx.deserialize(header, () =>
  scope('charge-card', async () => {
    const seen = {
      requestId: get(requestId),
      tenant: get(tenant),
      user: get(user),
      deadline: get(deadline)?.toISOString(),
      dbConnection: get(dbConnection) ?? '(not sent: local-only)',
      scopeChain: scopeChain(),
    };
    console.error(`[child ${process.pid}] sees ${JSON.stringify(seen)}`);
    set(tenant, `${get(tenant)}/billing`);
    // The reply: the context as this process has it now, for the parent to continue in.
    process.stdout.write(JSON.stringify({ seen, reply: serializeToString() }));
  }),
);
