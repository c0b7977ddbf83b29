/**
 * Which registered keys go into log lines, under which field names, and reading them from the
 * current context (or a snapshot) without ever throwing: a logger must keep logging whatever
 * state the context is in.
 */
import { type ContextKey, DContextError, get, Snapshot } from '../../index.js';
import { runtime } from '../../internal/runtime.js';
import { traceFieldsProvider } from '../../internal/trace-fields.js';
import type { Registry } from '../../registry/registry.js';
import { describeValue } from '../../registry/registry.js';
import { type ChainNode, chainToArray } from '../../store/scope-chain.js';

/** Options shared by {@link logFields}, `pinoMixin` and `winstonFormat`. */
export interface LogFieldOptions {
  /**
   * The field holding the scope chain joined by `>` (`'http>handler'`), or `false` for none.
   * Default `'scope'`; an empty chain adds no field.
   */
  readonly scopeField?: string | false;
  /**
   * Whether to add `trace_id` / `span_id` of the active span when `dcontext/otel` is loaded (it
   * registers the provider). Default `true`.
   */
  readonly traceFields?: boolean;
}

/** One logged key: the registered key object (read by slot) and the field it is written under. */
interface LoggedKey {
  readonly key: ContextKey<unknown, boolean>;
  readonly field: string;
}

/**
 * The `globalThis` key under which `dcontext/otel` installs the function that gives the active
 * span's ids; absent until it is loaded, so `dcontext/log` never imports OpenTelemetry.
 */
export { TRACE_FIELDS_PROVIDER } from '../../internal/trace-fields.js';

// The plan is computed once per registry (frozen by initialize(), so once per process).
let planFor: Registry | null = null;
let plan: readonly LoggedKey[] = [];

/**
 * The keys to log: those registered with `metadata.log` (`true` → under the key's name, a string →
 * under that field name), never one marked `metadata.sensitive: true`.
 */
export function loggedKeys(): readonly LoggedKey[] {
  const registry = runtime.registry;
  if (registry === planFor) return plan;
  const next: LoggedKey[] = [];
  for (const definition of registry?.definitions ?? []) {
    const { log, sensitive } = definition.metadata;
    if (sensitive === true || (log !== true && typeof log !== 'string')) continue;
    const field = typeof log === 'string' && log.length > 0 ? log : definition.name;
    next.push({ key: registry!.keys[definition.index]!, field });
  }
  planFor = registry;
  plan = next;
  return plan;
}

/**
 * The context as log fields: every key registered with `metadata: { log: true | 'field' }` that has
 * a value (keys marked `sensitive` never), `scope` (the scope chain joined by `>`), and
 * `trace_id`/`span_id` when `dcontext/otel` is loaded and a span is active. Reads the current
 * context, or `snapshot` when given. Never throws on the context's state (a wrong argument is `INVALID_ARGUMENT`): before `initialize()`, or for a value that
 * cannot be read, the field is left out. Every field is an own property, also one named
 * `__proto__`.
 *
 * @example
 * logger.info({ ...logFields(), orderId }, 'order placed');
 */
export function logFields(
  snapshot?: Snapshot,
  options?: LogFieldOptions | null,
): Record<string, unknown> {
  if (snapshot !== undefined && !(snapshot instanceof Snapshot)) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `logFields(snapshot) expects a Snapshot, or nothing for the current context (got ${describeValue(snapshot)})`,
    );
  }
  options = logOptions(options, 'logFields');
  // A plain literal, not Object.create(null): V8 keeps that in dictionary mode, which made every
  // pino line ~25% slower. The one name a literal would misread is handled by `put`.
  const fields: Record<string, unknown> = {};
  const keys = loggedKeys();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let value: unknown;
    try {
      value = snapshot === undefined ? get(key.key) : snapshot.get(key.key);
    } catch {
      continue; // a default() that throws: the line is still written, without this field
    }
    if (value !== undefined) put(fields, key.field, value);
  }
  const scopeField = options?.scopeField ?? 'scope';
  if (scopeField !== false && planFor !== null) {
    const joined = snapshot === undefined ? currentChainJoined() : snapshot.scopeChain.join('>');
    if (joined !== '') put(fields, scopeField, joined);
  }
  if (options?.traceFields !== false) {
    const trace = traceFieldsProvider()?.();
    if (trace !== undefined) {
      fields.trace_id = trace.trace_id;
      fields.span_id = trace.span_id;
    }
  }
  return fields;
}

/**
 * `options` checked where a logger is set up: `null` or `undefined` mean none, anything else that
 * is not an object of {@link LogFieldOptions} is `INVALID_ARGUMENT` (not a TypeError on every
 * line later).
 */
export function logOptions(options: unknown, door: string): LogFieldOptions | undefined {
  if (options === undefined || options === null) return undefined;
  const { scopeField, traceFields } = options as LogFieldOptions;
  if (
    typeof options !== 'object' ||
    (scopeField !== undefined && scopeField !== false && typeof scopeField !== 'string') ||
    (traceFields !== undefined && typeof traceFields !== 'boolean')
  ) {
    throw new DContextError(
      'INVALID_ARGUMENT',
      `${door} options must be { scopeField?: string | false, traceFields?: boolean } (got ${describeValue(options)})`,
    );
  }
  return options as LogFieldOptions;
}

/** `fields[name] = value`, as an own property even for `__proto__` (which `=` would not create). */
function put(fields: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(fields, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    fields[name] = value;
  }
}

// The last chain joined, and its text: consecutive lines mostly come from the same scope, and
// joining costs more than everything else a line adds (measured ~150 ns of ~300 ns).
let lastChain: ChainNode | null = null;
let lastJoined = '';

/** The current scope chain joined by `>` (empty outside named scopes). */
function currentChainJoined(): string {
  const chain = (runtime.als.getStore() ?? runtime.syncCurrent).chain;
  if (chain !== lastChain) {
    lastChain = chain;
    lastJoined = chainToArray(chain).join('>');
  }
  return lastJoined;
}
