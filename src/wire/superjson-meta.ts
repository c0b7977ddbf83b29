/**
 * The check a received superjson `meta` passes before superjson sees it. superjson's decoder
 * trusts its annotations: a `values` that is a string recurses until the stack overflows (5–25 ms
 * per read, seconds once warm), and paths through a `Set` or `Map` walk it from the start on
 * every step (`getNthKey`), so a 64 KiB payload of references into a large Set costs ~0.1 s.
 * Only the grammar superjson 2 writes (`serialize`, `meta.v === 1`) is accepted, and the work the
 * annotations ask for is bounded by a budget linear in the payload size.
 *
 * The grammar (node_modules/superjson/dist/plainer.js, `walker` and `traverse`):
 *
 * ```text
 * meta     = { values?: tree, referentialEqualities?: refs, v: 1 }
 * tree     = node | record
 * node     = [type] | [type, record]        children apply first, then the node's own type
 * record   = { path: node, … }               no key's path a prefix of a sibling's
 * type     = 'undefined' | 'bigint' | 'Date' | 'Error' | 'regexp' | 'set' | 'map' | 'number'
 *          | 'URL' | ['symbol' | 'class' | 'custom' | 'typed-array', string]
 * refs     = { path: path[], … } | [path[]] | [path[], { path: path[], … }]
 * path     = segments joined by '.', with '\.' and '\\' escapes (pathstringifier.js)
 * ```
 */

const SIMPLE_TYPES = new Set([
  'undefined',
  'bigint',
  'Date',
  'Error',
  'regexp',
  'set',
  'map',
  'number',
  'URL',
]);
const COMPOSITE_TYPES = new Set(['symbol', 'class', 'custom', 'typed-array']);
const META_KEYS = new Set(['values', 'referentialEqualities', 'v']);

/**
 * Segments in one path, from the root of the value. A value is at most `maxDepth` (32) levels
 * deep and a Map row takes two segments, so a longer path points at nothing a sender wrote.
 */
export const MAX_PATH_SEGMENTS = 64;
/** Characters in a regexp annotation's `/source/flags` string. */
export const MAX_REGEXP_SOURCE = 4096;
/** Characters in a class, symbol, custom-transformer or typed-array name. */
const MAX_TYPE_NAME = 256;
/** Path steps allowed per payload byte (plus a fixed allowance for small payloads). */
const STEPS_PER_BYTE = 8;
const STEPS_BASE = 4096;
/**
 * Sets and Maps one payload may hold: superjson builds each at ~12 µs cold (a 64 KiB payload of
 * ~6,000 empty Sets took ~67 ms CPU cold), so this keeps any payload near the 50 ms bound.
 */
const MAX_SETS_AND_MAPS = 4096;

/** Where the Sets and Maps the `values` annotations make will be, for pricing reference paths. */
interface ShapeNode {
  kind?: 'set' | 'map';
  children?: Map<string, ShapeNode>;
}

/** The paths of one record, to refuse one that lies inside another. */
interface PathNode {
  end?: boolean;
  children?: Map<string, PathNode>;
}

class Budget {
  remaining: number;
  constructor(payloadBytes: number) {
    this.remaining = payloadBytes * STEPS_PER_BYTE + STEPS_BASE;
  }

  spend(steps: number): void {
    this.remaining -= steps;
    if (this.remaining < 0) {
      throw new Error(
        'its superjson annotations ask for more work than the payload size allows (references deep into a large Set or Map?)',
      );
    }
  }
}

function refuse(problem: string): never {
  throw new Error(`invalid superjson annotations: ${problem}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A path's segments, parsed as superjson 2 does (`parsePath` without legacy paths). */
export function parsePath(path: string): string[] {
  if (!path.includes('\\')) {
    const segments = path.split('.', MAX_PATH_SEGMENTS + 1);
    if (segments.length > MAX_PATH_SEGMENTS) refuse('a path is too long');
    return segments;
  }
  const segments: string[] = [];
  let segment = '';
  let from = 0;
  for (let i = 0; i < path.length; i++) {
    const char = path.charCodeAt(i);
    if (char === 0x5c) {
      const next = path.charCodeAt(i + 1);
      if (next !== 0x5c && next !== 0x2e) refuse('a path has an invalid escape');
      segment += path.slice(from, i) + path[i + 1];
      from = ++i + 1;
    } else if (char === 0x2e) {
      segments.push(segment + path.slice(from, i));
      if (segments.length > MAX_PATH_SEGMENTS) refuse('a path is too long');
      segment = '';
      from = i + 1;
    }
  }
  segments.push(segment + path.slice(from));
  return segments;
}

/** Numeric segments as superjson indexes with them (`+key`), so '01' and '1' price alike. */
function canonical(segment: string): string {
  const number = +segment;
  return Number.isFinite(number) ? String(number) : segment;
}

function checkType(type: unknown): void {
  if (typeof type === 'string') {
    if (!SIMPLE_TYPES.has(type)) refuse(`unknown type ${JSON.stringify(type.slice(0, 40))}`);
    return;
  }
  if (
    !Array.isArray(type) ||
    type.length !== 2 ||
    !COMPOSITE_TYPES.has(type[0] as string) ||
    typeof type[1] !== 'string' ||
    type[1].length > MAX_TYPE_NAME
  ) {
    refuse('a type is neither a name nor [kind, name]');
  }
}

/**
 * The JSON value under `value` at `segment`. superjson annotates values that are in the JSON it
 * writes, so a path to nothing is refused: then a path is never longer than the value is deep
 * (32 levels under the default limits), whatever the annotations claim. An array index must be
 * written as superjson writes it ('1', not '01' or ' 1', which superjson's `+key` would read as
 * the same element): then two different paths never name one element.
 */
function childAt(value: unknown, segment: string): unknown {
  if (value === null || typeof value !== 'object') refuse('a path points to nothing in the value');
  if (Array.isArray(value) && String(+segment) !== segment) {
    refuse('an array index is not written as a plain number');
  }
  if (!Object.hasOwn(value, segment)) refuse('a path points to nothing in the value');
  return (value as Record<string, unknown>)[segment];
}

class MetaCheck {
  readonly budget: Budget;
  setsAndMaps = 0;
  readonly shape: ShapeNode = {};

  constructor(
    readonly json: unknown,
    payloadBytes: number,
  ) {
    this.budget = new Budget(payloadBytes);
  }

  tree(tree: unknown): void {
    if (Array.isArray(tree)) this.node(tree, [], [], this.json);
    else if (isRecord(tree)) this.record(tree, [], this.json);
    else refuse('values is neither a node nor a record');
  }

  /**
   * `json` is the value at `path` (children apply before their parent, so it is unchanged). The
   * path is built only for the nodes that need it (children, a Set or a Map): most leaves don't.
   */
  node(node: unknown, origin: string[], segments: readonly string[], json: unknown): void {
    if (!Array.isArray(node) || node.length < 1 || node.length > 2) {
      refuse('a node is not [type] or [type, children]');
    }
    const type: unknown = node[0];
    checkType(type);
    // V8 parses a RegExp source at ~1 µs per character cold, superlinearly for nested groups
    // (16 000 nested: ~40 ms, 60 000: ~65 ms); no context needs a pattern that long.
    if (type === 'regexp' && (typeof json !== 'string' || json.length > MAX_REGEXP_SOURCE)) {
      refuse(`a regexp is not a string of at most ${MAX_REGEXP_SOURCE} characters`);
    }
    if (node.length === 1 && typeof type === 'string' && type !== 'set' && type !== 'map') return;
    const path = origin.concat(segments);
    if (node.length === 2) {
      if (!isRecord(node[1])) refuse('the children of a node are not a record');
      this.record(node[1], path, json);
    }
    if (type === 'set' || type === 'map') this.mark(path, type);
    // `new Float64Array(n)` allocates n elements: only an array of the elements is accepted.
    if (Array.isArray(type) && type[0] === 'typed-array' && !Array.isArray(json)) {
      refuse('a typed array is not an array of its elements');
    }
  }

  record(record: Record<string, unknown>, origin: string[], json: unknown): void {
    const keys = Object.keys(record);
    // Sibling paths must not nest: superjson would apply the outer one first, and the inner one
    // would then walk the Set or Map it made. superjson's own output never nests them. Keys of
    // one segment each (a Set's or an array's elements) cannot nest: no tree needed for them.
    let nested = false;
    for (const key of keys) {
      if (key.includes('.') || key.includes('\\')) {
        nested = true;
        break;
      }
    }
    if (!nested) {
      const depth = origin.length + 1;
      if (depth > MAX_PATH_SEGMENTS) refuse('a path is too long');
      this.budget.spend(depth * keys.length);
      for (const key of keys) this.node(record[key], origin, [key], childAt(json, key));
      return;
    }
    const siblings: PathNode = {};
    for (const key of keys) {
      const segments = parsePath(key);
      const depth = origin.length + segments.length;
      if (depth > MAX_PATH_SEGMENTS) refuse('a path is too long');
      this.budget.spend(depth);
      let at = siblings;
      let value = json;
      for (const segment of segments) {
        if (at.end === true) refuse('a path lies inside a sibling path');
        at.children ??= new Map();
        let next = at.children.get(segment);
        if (next === undefined) at.children.set(segment, (next = {}));
        at = next;
        value = childAt(value, segment);
      }
      if (at.end === true || at.children !== undefined) refuse('a path lies inside a sibling path');
      at.end = true;
      this.node(record[key], origin, segments, value);
    }
  }

  mark(path: readonly string[], kind: 'set' | 'map'): void {
    if (++this.setsAndMaps > MAX_SETS_AND_MAPS) {
      refuse(`more than ${MAX_SETS_AND_MAPS} Sets and Maps in one value`);
    }
    let at = this.shape;
    for (const segment of path) {
      at.children ??= new Map();
      const key = canonical(segment);
      let next = at.children.get(key);
      if (next === undefined) at.children.set(key, (next = {}));
      at = next;
    }
    at.kind = kind;
  }

  /**
   * A reference's identical paths become aliases of another object (a Set or Map included), which
   * the shape does not know: a later path walking through an alias (`t.14999` after `s` → `t`)
   * would walk the Set unpriced (~0.7 s at 64 KiB). superjson never writes a path through an
   * identical path (the walker does not descend into an object it has seen), so one is refused.
   */
  references(refs: unknown): void {
    let root: unknown[] = [];
    let record: unknown;
    if (Array.isArray(refs)) {
      if (refs.length < 1 || refs.length > 2) refuse('referentialEqualities is not [root, other]');
      root = this.list(refs[0]);
      record = refs.length === 2 ? refs[1] : {};
    } else {
      record = refs;
    }
    if (!isRecord(record)) refuse('referentialEqualities is not a record of paths');
    const keys = Object.keys(record);
    const lists = keys.map((key) => this.list(record[key]));
    const aliases = new Set<string>();
    for (const list of [root, ...lists]) {
      for (const path of list)
        aliases.add(
          parsePath(path as string)
            .map(canonical)
            .join('\0'),
        );
    }
    for (const path of root) this.price(path as string, aliases);
    for (let i = 0; i < keys.length; i++) {
      this.price(keys[i]!, aliases);
      for (const path of lists[i]!) this.price(path as string, aliases);
    }
  }

  list(list: unknown): unknown[] {
    if (!Array.isArray(list)) refuse('a reference list is not an array');
    for (const path of list)
      if (typeof path !== 'string') refuse('a reference path is not a string');
    return list;
  }

  /** Spends what superjson's `getDeep`/`setDeep` will walk for `path`: Set and Map rows count. */
  price(path: string, aliases: ReadonlySet<string>): void {
    const segments = parsePath(path);
    let steps = segments.length;
    let prefix = canonical(segments[0]!);
    for (let i = 1; i < segments.length; i++) {
      if (aliases.has(prefix)) refuse('a reference path leads through another reference');
      prefix += `\0${canonical(segments[i]!)}`;
    }
    let at: ShapeNode | undefined = this.shape;
    for (let i = 0; i < segments.length && at !== undefined; i++) {
      const key = canonical(segments[i]!);
      if (at.kind !== undefined) {
        const row = +key;
        if (row > 0) steps += row;
        if (at.kind === 'map') {
          at = at.children?.get(key);
          i++;
          if (i === segments.length) break;
          const side = canonical(segments[i]!);
          at = at?.children?.get(side);
          continue;
        }
      }
      at = at.children?.get(key);
    }
    this.budget.spend(steps);
  }
}

/**
 * Throws unless `meta` is superjson 2 annotations of `json` whose decoding stays linear in
 * `payloadBytes` (see the file comment): only then may superjson be given it.
 */
export function checkSuperjsonMeta(json: unknown, meta: unknown, payloadBytes: number): void {
  if (!isRecord(meta)) refuse('meta is not a map');
  for (const key of Object.keys(meta)) {
    if (!META_KEYS.has(key)) refuse(`unknown meta field ${JSON.stringify(key.slice(0, 40))}`);
  }
  if (meta.v !== 1) refuse('meta.v is not 1 (superjson 2)');
  const check = new MetaCheck(json, payloadBytes);
  if (meta.values !== undefined) check.tree(meta.values);
  if (meta.referentialEqualities !== undefined) check.references(meta.referentialEqualities);
}
