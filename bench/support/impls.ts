/**
 * The implementations under comparison, each loaded on demand with `import()` so that a process
 * only ever loads the ones its job names (cls-hooked enables async_hooks for the whole process;
 * a process meant to never load dcontext must not see it in a static import).
 *
 * Every implementation holds the same context: `keyCount` keys named `key0…`, with string
 * values `value0…`. Benches read the last key, the worst case for nothing and the same for all.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Context, ContextAPI } from '@opentelemetry/api';
import type { Namespace } from 'cls-hooked';
import type * as Dcontext from '../../src/index.js';

// A variable, so that type-checking does not require a build to exist.
const DIST_ENTRY = '../../dist/index.js';

export const keyName = (index: number): string => `key${index}`;
export const valueAt = (index: number): string => `value${index}`;

export interface DcontextSetup {
  readonly dcontext: typeof Dcontext;
  readonly keys: readonly Dcontext.ContextKey<string>[];
  /** Sets every key in the current (async or sync) scope. */
  readonly setAll: () => void;
}

/**
 * Which build of dcontext the benches load: the sources through tsx (the default), or with
 * `BENCH_DCONTEXT=dist` the tsup build from `npm run build`, which is what users run. They can
 * differ: tsx compiles with esbuild's `keepNames`, which redefines every class's `name`; V8
 * then turns the class into a slow-properties object and `instanceof` against it takes a
 * generic path (~12 ns here) until something makes the class a prototype again (a subclass).
 */
export const dcontextBuild: 'src' | 'dist' = process.env.BENCH_DCONTEXT === 'dist' ? 'dist' : 'src';

/** dcontext with `keyCount` registered keys (a process registers keys once). */
export async function loadDcontext(keyCount: number): Promise<DcontextSetup> {
  const dcontext: typeof Dcontext =
    dcontextBuild === 'dist'
      ? ((await import(DIST_ENTRY)) as typeof Dcontext)
      : await import('../../src/index.js');
  const builder = new dcontext.RegistryBuilder();
  const keys = Array.from({ length: keyCount }, (_, i) => builder.register<string>(keyName(i)));
  dcontext.initialize(builder);
  const setAll = (): void => {
    for (let i = 0; i < keyCount; i++) dcontext.set(keys[i]!, valueAt(i));
  };
  return { dcontext, keys, setAll };
}

export interface RawSetup {
  /** The raw building block: one ALS holding a dense array, one slot per key. */
  readonly arrayAls: AsyncLocalStorage<unknown[]>;
  readonly array: unknown[];
  /** The common hand-rolled alternative: one ALS holding a Map by key name. */
  readonly mapAls: AsyncLocalStorage<Map<string, unknown>>;
  readonly map: Map<string, unknown>;
  readonly AsyncLocalStorage: typeof AsyncLocalStorage;
}

export async function loadRaw(keyCount: number): Promise<RawSetup> {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  return {
    arrayAls: new AsyncLocalStorage<unknown[]>(),
    array: Array.from({ length: keyCount }, (_, i) => valueAt(i)),
    mapAls: new AsyncLocalStorage<Map<string, unknown>>(),
    map: new Map(Array.from({ length: keyCount }, (_, i) => [keyName(i), valueAt(i)])),
    AsyncLocalStorage,
  };
}

export interface OtelSetup {
  readonly context: ContextAPI;
  readonly keys: readonly symbol[];
  /** ROOT_CONTEXT with every key set. */
  readonly full: Context;
  readonly root: Context;
}

/** OpenTelemetry's context API with its AsyncLocalStorage context manager, as SDKs install it. */
export async function loadOtel(keyCount: number): Promise<OtelSetup> {
  const { context, createContextKey, ROOT_CONTEXT } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const keys = Array.from({ length: keyCount }, (_, i) => createContextKey(keyName(i)));
  let full = ROOT_CONTEXT;
  for (let i = 0; i < keyCount; i++) full = full.setValue(keys[i]!, valueAt(i));
  return { context, keys, full, root: ROOT_CONTEXT };
}

/** cls-hooked; only ever in a process of its own (it hooks every async resource of the process). */
export async function loadCls(): Promise<Namespace> {
  const { createNamespace } = await import('cls-hooked');
  return createNamespace('bench');
}

/**
 * A module of dcontext's build (`entry` under dist/, rebuilt first when older than its sources),
 * for the benches that measure what users run end to end (bullmq, nats). The sources through
 * tsx are slower there: esbuild's `keepNames` wraps every closure made per message in a `__name`
 * call (measured: `handleWithContext` per message 5.2-5.8 µs from src/, 3.0-3.5 µs from dist/).
 * `BENCH_DCONTEXT=src` loads `source` instead.
 */
export async function importBuild<T>(entry: string, source: string): Promise<T> {
  if (process.env.BENCH_DCONTEXT === 'src') return (await import(source)) as T;
  if (process.argv.includes('--child')) return (await import(`../../dist/${entry}`)) as T;
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../../scripts/build-if-stale.mjs', import.meta.url))],
    {
      stdio: 'inherit',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    },
  );
  return (await import(`../../dist/${entry}`)) as T;
}
