/**
 * The process-wide runtime state, shared by every copy of dcontext loaded in one process.
 *
 * When both the ESM and the CommonJS build get loaded (the dual-package hazard), each has its own
 * module instances; keeping the state on `globalThis` under a `Symbol.for` key makes them share
 * one registry, one AsyncLocalStorage and one synchronous stack, so context set through one build
 * is seen through the other. `RUNTIME_ABI` changes whenever the shape of this state or of frames
 * changes; a copy with another ABI refuses to load rather than misread the other's state.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Registry } from '../registry/registry.js';
import { type Frame, rootFrame } from '../store/frame-shape.js';

export const RUNTIME_ABI = 5;
const SLOT = Symbol.for('dcontext.runtime');

/**
 * How a frame's foreign context (see `Frame.foreign`) crosses into another thread: as plain data
 * that structured clone copies, turned back into a context on the receiving side. Installed by
 * the integration that owns the foreign context (`dcontext/otel`), in each thread that loads it.
 */
export interface ForeignBridge {
  /** Plain, cloneable data for `foreign`, or undefined to send nothing. */
  toCarrier(foreign: unknown): unknown;
  /** The context `carrier` stands for, or null when it is not usable (it came from another thread: untrusted). */
  fromCarrier(carrier: unknown): unknown;
}

export interface Runtime {
  readonly abi: number;
  /** The frozen registry, or null before `initialize`. */
  registry: Registry | null;
  /** The one AsyncLocalStorage; holds the current async frame. Only ever used with `run`. */
  readonly als: AsyncLocalStorage<Frame>;
  /** The read-only root frame: what is read when no scope is active. */
  root: Frame;
  /** The innermost frame of the synchronous store (the root when no sync scope is open). */
  syncCurrent: Frame;
  /**
   * Bumped each time sync scopes left open at the end of a tick are closed by force (see
   * sync/scope-guard.ts): a guard opened under an older epoch is void.
   */
  syncEpoch: number;
  /** Whether the end-of-tick check for open sync scopes is queued. */
  leakCheckQueued: boolean;
  maxScopeChainLength: number;
  /** Largest serialized context, in bytes, that `serialize` writes and `deserialize` accepts. */
  maxContextSize: number;
  /** Classes that must be one and the same across builds (for `instanceof`). */
  readonly classes: Map<string, unknown>;
  /** Carries frames' foreign contexts across threads; null until an integration installs one. */
  foreignBridge: ForeignBridge | null;
}

type GlobalWithRuntime = typeof globalThis & { [SLOT]?: Runtime };

function createRuntime(): Runtime {
  const root = rootFrame();
  return {
    abi: RUNTIME_ABI,
    registry: null,
    als: new AsyncLocalStorage<Frame>(),
    root,
    syncCurrent: root,
    syncEpoch: 0,
    leakCheckQueued: false,
    maxScopeChainLength: 64,
    maxContextSize: 64 * 1024,
    classes: new Map(),
    foreignBridge: null,
  };
}

function attachRuntime(): Runtime {
  const holder = globalThis as GlobalWithRuntime;
  const existing = holder[SLOT];
  if (existing === undefined) {
    const created = createRuntime();
    Object.defineProperty(holder, SLOT, { value: created, enumerable: false });
    return created;
  }
  if (existing.abi !== RUNTIME_ABI) {
    // Not a DContextError: the class itself lives in the shared state we cannot trust.
    const error = new Error(
      `dcontext: another copy of dcontext with runtime ABI ${existing.abi} is already loaded in this process (this copy has ABI ${RUNTIME_ABI}); dedupe the dependency so one version is installed`,
    );
    (error as Error & { code: string }).code = 'INCOMPATIBLE_RUNTIME';
    throw error;
  }
  return existing;
}

/** The shared runtime. Read its fields at call time: another build may have replaced them. */
export const runtime: Runtime = attachRuntime();

/** Returns the class registered under `name` by the first copy loaded, registering `value` if none. */
export function shared<T>(name: string, value: T): T {
  const existing = runtime.classes.get(name);
  if (existing !== undefined) return existing as T;
  runtime.classes.set(name, value);
  return value;
}
