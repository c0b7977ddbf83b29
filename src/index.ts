export { type AsyncContext, asyncCtx } from './async/async-context.js';
export {
  bind,
  get,
  scope,
  scopeChain,
  set,
  setMaxScopeChainLength,
  snapshot,
  tryGet,
  update,
  withContext,
} from './context-api.js';
export { bindEmitter } from './emitter/bind-emitter.js';
export { type BoundListener, bindListener, type Listener } from './emitter/bind-listener.js';
export { DContextError, type DContextErrorCode, isDContextError } from './errors.js';
export { RegistryBuilder } from './registry/builder.js';
export {
  ContextKey,
  type KeyRef,
  type ValueRead,
  type ValueWritten,
  type WithDefault,
} from './registry/context-key.js';
export {
  initialize,
  isInitialized,
  registeredKeys,
  tryInitialize,
} from './registry/registry.js';
export type { KeyCodec, KeyInfo, KeyOptions, Migration, ValueCodec } from './registry/types.js';
export { Snapshot } from './store/snapshot.js';
export type { ContextStore } from './store/store.js';
export { ScopeGuard } from './sync/scope-guard.js';
export { type SyncContext, syncCtx } from './sync/sync-context.js';
export { deserialize, serialize, serializeToString } from './wire/api.js';
export { toDebugJSON } from './wire/debug-json.js';
export type { CodecName } from './wire/format.js';
export {
  DEFAULT_WIRE_LIMITS,
  maxContextSize,
  setMaxContextSize,
  type WireLimits,
} from './wire/limits.js';
export type {
  DebugEntry,
  DebugValue,
  DebugView,
  DeserializeOptions,
  SerializeOptions,
  SigningKey,
} from './wire/types.js';
