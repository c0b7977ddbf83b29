// The Piscina task file of examples/worker-pool.ts: each task runs in its submitter's context.
import { get, scopeChain } from 'dcontext';
import { withTaskContext } from 'dcontext/worker';
import { requestId, tenant } from './worker-keys.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default withTaskContext(async ({ page }) => {
  await sleep(Math.random() * 10); // tasks of different requests interleave here
  if (page < 0) throw new Error(`cannot render page ${page}`);
  return `page ${page} rendered for ${get(requestId)} (${get(tenant)}), chain ${scopeChain().join(' > ')}`;
});
