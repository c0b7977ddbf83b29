import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../../fixtures/no-peers.cjs', import.meta.url));

describe('dcontext/http peers (built package)', () => {
  it('requiring dcontext and dcontext/http loads none of fastify, undici or express', () => {
    const result = JSON.parse(execFileSync(process.execPath, [fixture], { encoding: 'utf8' }));
    expect(result).toEqual({
      core: 'function',
      http: ['function', 'function', 'function', 'function'],
      loaded: [],
    });
  });
});
