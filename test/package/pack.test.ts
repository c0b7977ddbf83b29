import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cjs, esm, typescript } from './consumer.js';

// What a user gets from `npm install dcontext`: the tarball `npm pack` makes from a fresh
// checkout (no dist/: the prepack script must build it), installed into a new project.
const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Each subpath bundles the core it uses, with its source map (sources included): about 100-200 kB
// packed per entry; dcontext/http bundles most of the core. Folding subpaths onto one shared core
// chunk would shrink this (a later step). So the budget is per entry: 256 KiB for each subpath
// `exports` names (dcontext/otel, the fifth, took the package past a flat 1 MiB).
const ENTRIES = Object.keys(
  (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>;
    }
  ).exports,
).filter((subpath) => subpath !== './package.json').length;
const MAX_TARBALL_BYTES = ENTRIES * 256 * 1024;

let work = '';
let tarball = '';
let consumer = '';
let installed = '';

// Asynchronous on purpose: a child process that blocks the test worker's event loop for a minute
// (npm pack builds) makes vitest's worker RPC time out.
const exec = promisify(execFile);
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    return (await exec(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }))
      .stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}
const node = async (file: string) => JSON.parse(await sh(process.execPath, [file], consumer));

/** The files a fresh clone has: tracked or new, not ignored (so no dist/, no node_modules/). */
async function freshCheckout(into: string): Promise<void> {
  const files = (
    await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root)
  )
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  for (const file of files) {
    mkdirSync(dirname(join(into, file)), { recursive: true });
    cpSync(join(root, file), join(into, file));
  }
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'), 'dir');
}

/** Every file under `dir`, relative to it. */
const walk = (dir: string, prefix = ''): string[] =>
  readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dcontext-pack-'));
  const checkout = join(work, 'checkout');
  await freshCheckout(checkout);
  await sh(npm, ['pack', '--pack-destination', work], checkout);
  const packed = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(work, packed[0] ?? '');

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  // dcontext/otel imports its optional peer at run time: the consumer installs it, as a user of
  // that subpath does (the version the checkout tests against, from npm's cache).
  const otelApi = JSON.parse(
    readFileSync(join(root, 'node_modules/@opentelemetry/api/package.json'), 'utf8'),
  ) as { version: string };
  await sh(
    npm,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
      `@opentelemetry/api@${otelApi.version}`,
    ],
    consumer,
  );
  installed = join(consumer, 'node_modules/dcontext');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the build, the docs, the examples and the license, and stays small', () => {
    const files = walk(installed);
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/worker.js',
      'dist/worker.cjs',
      'dist/worker.d.ts',
      'dist/worker.d.cts',
      'dist/log.js',
      'dist/log.cjs',
      'dist/log.d.ts',
      'dist/log.d.cts',
      'dist/http.js',
      'dist/http.cjs',
      'dist/http.d.ts',
      'dist/http.d.cts',
      'dist/async-context.js',
      'dist/async-context.cjs',
      'dist/async-context.d.ts',
      'dist/async-context.d.cts',
      'dist/diagnostics-channel.js',
      'dist/diagnostics-channel.cjs',
      'dist/diagnostics-channel.d.ts',
      'dist/diagnostics-channel.d.cts',
      'dist/otel.js',
      'dist/otel.cjs',
      'dist/otel.d.ts',
      'dist/otel.d.cts',
      'dist/bullmq.js',
      'dist/bullmq.cjs',
      'dist/bullmq.d.ts',
      'dist/bullmq.d.cts',
      'dist/nats.js',
      'dist/nats.cjs',
      'dist/nats.d.ts',
      'dist/nats.d.cts',
      'dist/shared.js',
      'dist/shared.cjs',
      'dist/shared.d.ts',
      'dist/shared.d.cts',
      'dist/cli.js',
      'docs/usage-guide.md',
      'examples/demo.ts',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toContain('MIT License');
    expect(statSync(tarball).size).toBeLessThan(MAX_TARBALL_BYTES);
  });

  it('every relative import in the shipped declarations names a shipped file as written', () => {
    const declarations = walk(installed).filter((f) => /\.d\.c?ts$/.test(f));
    expect(declarations.length).toBeGreaterThanOrEqual(4);
    const unresolved: string[] = [];
    for (const file of declarations) {
      const text = readFileSync(join(installed, file), 'utf8');
      for (const [, spec = ''] of text.matchAll(
        /(?:from|import|require)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g,
      )) {
        if (!existsSync(resolve(installed, dirname(file), spec)))
          unresolved.push(`${file}: ${spec}`);
      }
      for (const [, spec = ''] of text.matchAll(/\/\/\/\s*<reference path="([^"]+)"/g)) {
        if (!existsSync(resolve(installed, dirname(file), spec)))
          unresolved.push(`${file}: ${spec}`);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it('the consumers below import every subpath package.json exports', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    for (const subpath of Object.keys(pkg.exports)) {
      const specifier = subpath === '.' ? "'dcontext'" : `'dcontext${subpath.slice(1)}'`;
      expect(esm, specifier).toContain(specifier);
      expect(cjs, specifier).toContain(specifier);
    }
  });

  it("the README's links to files resolve inside the package", () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1] ?? '')
      .filter((link) => !/^[a-z]+:/.test(link));
    const mentioned = [...readme.matchAll(/`((?:docs|examples)\/[^`<*]*)`/g)].map(
      (m) => m[1] ?? '',
    );
    expect(links.length).toBeGreaterThan(0);
    for (const link of [...links, ...mentioned])
      expect(existsSync(join(installed, link)), link).toBe(true);
  });
});

describe('the installed package, used as a user would', () => {
  const expected = {
    name: 'dcontext',
    outside: null,
    deserialized: { requestId: 'req-1', scopeChain: ['request'] },
    logged: { tenant: 'acme', scope: 'request' },
    outgoing: ['x-dcontext'],
    otel: { value: 'v', scopeChain: ['request', 'inner'], traceFields: {} },
    viaWorker: { message: 'ping', requestId: 'req-1', scopeChain: ['request'] },
    tc39: { variable: 'v1', requestId: 'req-1', outside: null },
    traced: { requestId: 'req-1', scopeChain: ['request', 'traced'], tenant: 'traced-tenant' },
    // The messaging subpaths load without their peers (bullmq, nats) installed.
    messaging: { bullmq: 'function', nats: 'function' },
    shared: { version: 1, requestId: 'req-1' },
  };

  it('imports dcontext and every subpath and dcontext/package.json from ESM', async () => {
    writeFileSync(join(consumer, 'esm.mjs'), esm);
    expect(await node('esm.mjs')).toMatchObject(expected);
  });

  it('requires dcontext and every subpath and dcontext/package.json from CommonJS', async () => {
    writeFileSync(join(consumer, 'cjs.cjs'), cjs);
    expect(await node('cjs.cjs')).toMatchObject(expected);
  });

  it('runs the dcontext command from node_modules/.bin', async () => {
    writeFileSync(join(consumer, 'header.mjs'), esm);
    const { header } = (await node('header.mjs')) as { header: string };
    const decoded = await sh(
      join(consumer, 'node_modules/.bin/dcontext'),
      ['decode', header],
      consumer,
    );
    expect(decoded).toContain('req-1');
    expect(decoded).toContain('request_id');
  });

  it.each([
    [
      'nodenext',
      { module: 'NodeNext', moduleResolution: 'NodeNext' },
      ['consumer.ts', 'consumer.cts'],
    ],
    ['bundler', { module: 'ESNext', moduleResolution: 'Bundler' }, ['consumer.ts']],
  ])(
    'type-checks a TypeScript consumer with moduleResolution %s',
    async (name, resolution, files) => {
      for (const file of files) writeFileSync(join(consumer, file), typescript);
      const config = `tsconfig.${name}.json`;
      const compilerOptions = {
        ...resolution,
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      };
      writeFileSync(join(consumer, config), JSON.stringify({ compilerOptions, files }));
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      // Awaited: `sh` is async, so a not.toThrow() around it passed whatever tsc said.
      await sh(process.execPath, [tsc, '-p', config, '--pretty', 'false'], consumer);
    },
  );

  // .ci/run installs Deno (npm package `deno`) and sets DENO_BIN; elsewhere this is skipped.
  const deno = process.env.DENO_BIN;
  it.skipIf(!deno)('passes deno check (types resolved the way Deno resolves them)', async () => {
    writeFileSync(join(consumer, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }));
    writeFileSync(join(consumer, 'deno-consumer.ts'), typescript);
    await sh(deno ?? 'deno', ['check', 'deno-consumer.ts'], consumer); // throws with Deno's errors
  });
});
