/**
 * Local-only values never go on the wire: they cross by name, as values for the channel to
 * structured-clone (cloned here, at the send, so that the check that they can be cloned and the
 * copy that travels are one, and a value changed in place after the send does not travel).
 *
 * The frame's foreign context (see `Frame.foreign`) travels among them, under the empty name,
 * which no key can have (a receiver that does not know it skips it as an unregistered name): as
 * the plain data its bridge makes of it (see `ForeignBridge`), when one is installed.
 */
import { causeText, DContextError } from '../errors.js';
import { runtime } from '../internal/runtime.js';
import { currentRegistry, type Registry } from '../registry/registry.js';
import { fitToRegistry, putEntry } from '../store/deferred-entries.js';
import { readSlot } from '../store/frame.js';
import { CHAIN, FOREIGN, OPAQUE, Snapshot, VALUES } from '../store/snapshot.js';
import { validateValue } from '../store/write-checks.js';
import type { LocalEntries } from './transfer-shape.js';

/** The name the foreign context's carrier travels under among the local entries. */
const FOREIGN_ENTRY = '';

/**
 * The local-only values of `snapshot`, cloned now, and its foreign context's carrier; null when
 * there is neither.
 */
export function localEntries(snapshot: Snapshot, registry: Registry): LocalEntries | null {
  const local = localValues(snapshot, registry);
  const bridge = runtime.foreignBridge;
  const foreign = snapshot[FOREIGN];
  if (bridge === null || foreign === null || foreign === undefined) return local;
  let carrier: unknown;
  try {
    carrier = bridge.toCarrier(foreign);
  } catch {
    return local; // the foreign context is the bridge's business: it never stops a send
  }
  if (carrier === undefined) return local;
  return local === null ? [[FOREIGN_ENTRY, carrier]] : [...local, [FOREIGN_ENTRY, carrier]];
}

function localValues(snapshot: Snapshot, registry: Registry): LocalEntries | null {
  const slots = localSlots(registry);
  if (slots.length === 0) return null;
  const definitions = registry.definitions;
  const values = snapshot[VALUES];
  let entries: [string, unknown][] | null = null;
  for (const i of slots) {
    if (i >= values.length) break;
    const value = readSlot(values, i);
    if (value === undefined) continue;
    const name = definitions[i]!.name;
    // The clone is what goes: a task queued in a pool must not see later in-place changes.
    (entries ??= []).push([name, cloneLocal(name, value)]);
  }
  return entries;
}

let localsOf: Registry | null = null;
let locals: readonly number[] = [];

/** The slots of the local-only keys of `registry`. */
function localSlots(registry: Registry): readonly number[] {
  if (localsOf !== registry) {
    const slots: number[] = [];
    registry.definitions.forEach((definition, i) => {
      if (definition.local) slots.push(i);
    });
    locals = slots;
    localsOf = registry;
  }
  return locals;
}

/** `value` structured-cloned now, or `NOT_CLONEABLE` naming the key. */
function cloneLocal(name: string, value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch (cause) {
    const detail = causeText(cause);
    throw new DContextError(
      'NOT_CLONEABLE',
      `the local-only key '${name}' holds a value that cannot be structured-cloned into another thread (${detail}); set a cloneable value (no functions, sockets or class instances with private state) or leave it unset for the cross-thread call`,
      name,
      { cause },
    );
  }
}

/**
 * `received` with the local values that arrived next to it, matched by name against this
 * thread's registry. A local value whose name is not registered here, or that fails the key's
 * `validate`, is left out.
 */
export function withLocalValues(received: Snapshot, local: LocalEntries | null): Snapshot {
  if (local === null || local.length === 0) return received;
  const registry = currentRegistry();
  let values: unknown[] | null = null;
  let foreign: unknown = received[FOREIGN];
  for (const entry of local) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    if (entry[0] === FOREIGN_ENTRY) {
      foreign = foreignOf(entry[1]) ?? foreign;
      continue;
    }
    const definition = registry.byName(entry[0]);
    if (definition === undefined) continue;
    try {
      validateValue(definition, entry[1]);
    } catch {
      continue;
    }
    putEntry((values ??= fitToRegistry(received[VALUES]).slice()), definition.index, entry[1]);
  }
  if (values === null && foreign === received[FOREIGN]) return received;
  return new Snapshot(values ?? received[VALUES], received[CHAIN], received[OPAQUE], foreign);
}

/** The foreign context a carrier from another thread stands for, or null. */
function foreignOf(carrier: unknown): unknown {
  const bridge = runtime.foreignBridge;
  if (bridge === null) return null;
  try {
    return bridge.fromCarrier(carrier);
  } catch {
    return null;
  }
}
