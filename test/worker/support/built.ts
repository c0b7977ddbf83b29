/**
 * Worker entry files in these tests are plain `.mjs` that import the built package ('dcontext',
 * 'dcontext/worker' resolve to dist/ by the package's self-reference): Node 20 cannot load
 * TypeScript in a worker thread (loader hooks do not reach workers before Node 22). CI and
 * `npm test` build first; this fails early, with the fix, when dist/ is missing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../../dist/worker.js', import.meta.url));

/** Throws when the package has not been built. */
export function assertBuilt(): void {
  if (!existsSync(dist)) {
    throw new Error(`${dist} is missing: run \`npm run build\` before the worker tests`);
  }
}

/** The URL of a worker entry file in test/worker/fixtures. */
export function fixture(name: string): URL {
  return new URL(`../fixtures/${name}`, import.meta.url);
}
