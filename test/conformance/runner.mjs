// A tiny test runner that Node, Deno and Bun all run the same way (none of their test runners
// is shared by all three). Tests run one after another; each has a timeout. Results go to
// stdout, one line each, ending with the plain closing line `N passed, N failed`, and as JSON to
// the file named by CONFORMANCE_RESULTS (read by scripts/runtimes-table.mjs).
import { writeFileSync } from 'node:fs';

/** The runtime running this file, as the table names it. */
export function runtimeName() {
  if (typeof globalThis.Deno !== 'undefined') return `deno ${globalThis.Deno.version.deno}`;
  if (typeof globalThis.Bun !== 'undefined') return `bun ${globalThis.Bun.version}`;
  return `node ${process.versions.node}`;
}

const tests = [];

/**
 * Registers a test titled `'<feature>: <what it checks>'`; the feature (before the first `: `)
 * groups tests into one row of docs/runtimes.md. A test that
 * throws a DContextError UNSUPPORTED_RUNTIME counts as `unsupported`: dcontext refused loudly,
 * which is the contract where a runtime lacks something.
 */
export function test(title, fn, { timeout = 30_000 } = {}) {
  const at = title.indexOf(': ');
  if (at === -1) throw new Error(`test title '${title}' has no '<feature>: ' prefix`);
  tests.push({ feature: title.slice(0, at), name: title.slice(at + 2), fn, timeout });
}

export async function run() {
  const results = [];
  for (const { feature, name, fn, timeout } of tests) {
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
        }),
      ]);
      results.push({ feature, name, status: 'pass' });
      console.log(`ok - ${feature}: ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      if (error?.name === 'DContextError' && error.code === 'UNSUPPORTED_RUNTIME') {
        results.push({ feature, name, status: 'unsupported', detail: error.message });
        console.log(`ok - ${feature}: ${name} # UNSUPPORTED_RUNTIME: ${error.message}`);
      } else {
        results.push({ feature, name, status: 'fail', detail: String(error?.stack ?? error) });
        console.log(
          `not ok - ${feature}: ${name}\n  ${String(error?.stack ?? error).replace(/\n/g, '\n  ')}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }
  const failed = results.filter((result) => result.status === 'fail').length;
  const out = process.env.CONFORMANCE_RESULTS;
  if (out) writeFileSync(out, JSON.stringify({ runtime: runtimeName(), results }, null, 2));
  console.log(`${runtimeName()}`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed;
}
