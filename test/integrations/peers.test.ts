import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PEERS = /pino|winston|@opentelemetry|fastify|express|undici|bullmq|ioredis|nats/;

describe('optional peers', () => {
  it("importing 'dcontext' (and every subpath but dcontext/otel, which loads @opentelemetry/api by design) loads no integration's library (CommonJS: nothing in require.cache)", () => {
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        "require('dcontext'); require('dcontext/log'); require('dcontext/worker'); require('dcontext/http'); require('dcontext/bullmq'); require('dcontext/nats'); require('dcontext/shared'); require('dcontext/async-context'); require('dcontext/diagnostics-channel'); console.log(JSON.stringify(Object.keys(require.cache)))",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    const modules = JSON.parse(loaded) as string[];
    // Library files only: dcontext's own dist/bullmq.cjs is not the bullmq package.
    expect(modules.filter((file) => /node_modules/.test(file) && PEERS.test(file))).toEqual([]);
  });

  it('no built entry imports an integration library (ESM and CommonJS builds)', () => {
    for (const file of [
      'index.js',
      'index.cjs',
      'log.js',
      'log.cjs',
      'async-context.js',
      'async-context.cjs',
      'diagnostics-channel.js',
      'diagnostics-channel.cjs',
      'bullmq.js',
      'bullmq.cjs',
      'nats.js',
      'nats.cjs',
      'shared.js',
      'shared.cjs',
    ]) {
      const code = readFileSync(`${root}dist/${file}`, 'utf8');
      const imports = [...code.matchAll(/(?:from\s*|import\(|require\()\s*['"]([^'"]+)['"]/g)].map(
        (m) => m[1]!,
      );
      expect(imports.filter((name) => PEERS.test(name))).toEqual([]);
    }
  });

  it('dcontext/otel imports @opentelemetry/api and no other OpenTelemetry package (ESM and CommonJS builds)', () => {
    for (const file of ['otel.js', 'otel.cjs']) {
      const code = readFileSync(`${root}dist/${file}`, 'utf8');
      const imports = [...code.matchAll(/(?:from\s*|import\(|require\()\s*['"]([^'"]+)['"]/g)].map(
        (m) => m[1]!,
      );
      expect(new Set(imports.filter((name) => PEERS.test(name)))).toEqual(
        new Set(['@opentelemetry/api']),
      );
    }
  });
});
