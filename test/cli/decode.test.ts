import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const builtCli = `${root}dist/cli.js`;

const typicalHex = readFileSync(`${root}test/vectors/typical.hex`, 'utf8')
  .replace(/#.*$/gm, '')
  .replace(/\s+/g, '');
const typicalBase64 = Buffer.from(typicalHex, 'hex').toString('base64url');

function cli(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(args, { out: (text) => (out += text), err: (text) => (err += text) });
  return { code, out, err };
}

/** Runs the command as a user would, in its own process (from source, through tsx). */
async function spawnCli(args: string[], script = `${root}src/cli/main.ts`) {
  const node = script.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
  try {
    const { stdout, stderr } = await run(process.execPath, [...node, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('dcontext decode', () => {
  it('prints the debug view of a base64url header, without any registry', () => {
    const { code, out, err } = cli(['decode', typicalBase64]);
    expect(code).toBe(0);
    expect(err).toBe('');
    const view = JSON.parse(out);
    expect(view.chain).toEqual(['http', 'checkout']);
    expect(view.entries).toHaveLength(10);
    expect(view.entries[2]).toEqual({
      key: 'user',
      version: 1,
      codec: 'msgpack',
      value: { id: 'usr_8f2k3j9x', roles: ['admin', 'billing'] },
    });
  });

  it('accepts hex, with or without 0x and spaces', () => {
    const expected = cli(['decode', typicalBase64]).out;
    expect(cli(['decode', typicalHex]).out).toBe(expected);
    expect(cli(['decode', `0x${typicalHex.toUpperCase()}`]).out).toBe(expected);
    expect(cli(['decode', typicalHex.replace(/(..)/g, '$1 ')]).out).toBe(expected);
  });

  it.each([
    ['not an encoding', 'hello world!'],
    ['odd-length hex that is not base64url either', '01909'],
    ['a truncated header', typicalBase64.slice(0, 40)],
    ['another format version', '029090'],
  ])('prints a one-line error and exits 1 for %s', (_label, input) => {
    const { code, out, err } = cli(['decode', input]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/^dcontext: DECODE_FAILED: [^\n]+\n$/);
  });

  it('prints usage on a wrong command line', () => {
    expect(cli([]).code).toBe(1);
    expect(cli(['encode', 'x']).err).toContain('usage: dcontext decode');
    expect(cli(['decode', 'a', 'b']).code).toBe(1);
    expect(cli(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('usage') });
  });

  it('runs as a command in its own process', async () => {
    const ok = await spawnCli(['decode', typicalBase64]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).entries).toHaveLength(10);
    const bad = await spawnCli(['decode', '%%%']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!existsSync(builtCli))('ships as dist/cli.js with a shebang', async () => {
    expect(readFileSync(builtCli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const { code, stdout } = await spawnCli(['decode', typicalHex], builtCli);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).chain).toEqual(['http', 'checkout']);
  });
});
