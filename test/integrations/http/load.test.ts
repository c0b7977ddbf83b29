/**
 * Many concurrent requests through each ingress (see support/load.ts): every response and every
 * log line carries its own request's id and tenant, and the heap after GC stays flat across
 * rounds. Each framework runs in its own process (for --expose-gc), the three side by side.
 *
 * DCONTEXT_HTTP_LOAD_REQUESTS lowers the request count for a quick local run (default 20000).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS, type Framework } from './support/servers.js';

const script = fileURLToPath(new URL('./support/load.ts', import.meta.url));
const requests = Number(process.env.DCONTEXT_HTTP_LOAD_REQUESTS ?? 20_000);
const CONCURRENCY = 256;
const ROUNDS = 3;

interface LoadResult {
  requests: number;
  failures: number;
  mismatches: number;
  logLines: number;
  logMismatches: number;
  heaps: number[];
  examples: string[];
}

async function load(framework: Framework): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      script,
      framework,
      String(requests),
      String(CONCURRENCY),
      String(ROUNDS),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult;
}

// Started together when the file loads: the three processes share the machine's cores.
const runs = new Map(FRAMEWORKS.map((framework) => [framework, load(framework)]));
// Checked by each test; a rejection here must not surface as unhandled before that.
for (const run of runs.values()) run.catch(() => {});

describe.each(FRAMEWORKS)('%s under load', (framework) => {
  it(`keeps every request's id and tenant its own over ${requests} requests at concurrency ${CONCURRENCY}`, async () => {
    const result = await runs.get(framework)!;
    expect(result.examples).toEqual([]);
    expect(result.failures).toBe(0);
    expect(result.mismatches).toBe(0);
    expect(result.requests).toBeGreaterThan(requests * 0.99);
    // A line in the handler, and one in the body's 'end' listener for each POST (every other).
    expect(result.logLines).toBe(Math.ceil(result.requests * 1.5));
    expect(result.logMismatches).toBe(0);
  }, 600_000);

  it(`keeps the heap after GC within 10% across ${ROUNDS} rounds`, async () => {
    const { heaps } = await runs.get(framework)!;
    expect(heaps).toHaveLength(ROUNDS);
    expect(Math.max(...heaps) / Math.min(...heaps)).toBeLessThan(1.1);
  }, 600_000);
});
