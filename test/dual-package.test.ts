import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const run = (file: string, ...args: string[]) =>
  JSON.parse(execFileSync(process.execPath, [fixture(file), ...args], { encoding: 'utf8' }));

describe('one runtime per process (built package)', () => {
  it('the ESM and the CommonJS build loaded together share one context', () => {
    expect(run('dual-package.cjs')).toEqual({
      cjsSeesEsmValue: 'from-esm',
      cjsSeesEsmChain: ['esm-scope'],
      esmSeesCjsValue: 'from-cjs',
      esmSeesCjsChain: ['esm-scope', 'cjs-scope'],
      snapshotCrosses: 'from-esm',
      sameErrorClass: true,
      secondInitCode: 'REGISTRY_FROZEN',
      sameSnapshotClass: true,
    });
  });

  it('refuses to share state with a copy of another runtime ABI', () => {
    expect(run('incompatible-runtime.cjs')).toEqual({
      code: 'INCOMPATIBLE_RUNTIME',
      mentionsAbi: true,
    });
  });
});

describe('syncCtx costs no promise overhead', () => {
  it('a process using only syncCtx never turns on promise hooks', () => {
    expect(run('sync-only-probe.mjs', 'none')).toEqual({ promiseHooks: false });
    expect(run('sync-only-probe.mjs', 'sync')).toEqual({ promiseHooks: false });
  });

  it('the probe does detect the hooks asyncCtx turns on (Node < 24; Node 24 ALS needs none)', () => {
    const usesPromiseHooks = Number(process.versions.node.split('.')[0]) < 24;
    expect(run('sync-only-probe.mjs', 'async')).toEqual({ promiseHooks: usesPromiseHooks });
  });
});
