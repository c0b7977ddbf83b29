// Started by the demo as a separate process: the context arrives as a header-safe string in
// DCONTEXT, is restored, extended in a scope of its own, and sent back on stdout.
import { asyncCtx, get, scope, scopeChain, serializeToString, set } from 'dcontext';
import { requestId, tenant } from './demo-keys.mjs';

const reply = await asyncCtx.deserialize(process.env.DCONTEXT ?? '', () =>
  scope('child-process', () => {
    set(tenant, `${get(tenant)}/billing`);
    return {
      pid: process.pid,
      requestId: get(requestId),
      tenant: get(tenant),
      chain: scopeChain(),
      context: serializeToString(),
    };
  }),
);
process.stdout.write(JSON.stringify(reply));
