// Runs after tsup (see `npm run build`). tsup bundles the declarations of our two entries with a
// shared chunk (`snapshot-<hash>.d.ts`) that the entries import as `./snapshot-<hash>.js`: a file
// that does not exist, so every tool that does not map `.js` to `.d.ts` fails to resolve it.
// We fold each chunk into the main entry (`index.d.ts` / `index.d.cts`) and point the other entries
// at the main entry (`./index.js` / `./index.cjs`, files that do exist). The shared classes
// (`Snapshot`, `ContextKey`, …) stay declared once: their private fields make them nominal, so a
// second declaration in `worker.d.ts` would not accept a `Snapshot` from `dcontext`.
// Anything this script does not understand fails the build instead of shipping broken types.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = process.argv[2] ?? 'dist';
const MAIN = 'index';
const fail = (message) => {
  console.error(`inline-dts-chunks: ${message}`);
  process.exit(1);
};

/** `{ a as B, type c as D, e }` → [{ type, from: 'a', to: 'B' }, …] */
const parseSpecifiers = (list) =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(s);
      if (!m) fail(`cannot parse specifier '${s}'`);
      return { type: Boolean(m[1]), from: m[2], to: m[3] ?? m[2] };
    });

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Statements `import|export { … } from '<spec>';` (rollup-plugin-dts writes them on one line). */
const statementsFrom = (text, spec) =>
  [
    ...text.matchAll(
      new RegExp(`^(import|export) \\{([^}]*)\\} from '${escapeRegExp(spec)}';\\n?`, 'gm'),
    ),
  ].map((m) => ({
    text: m[0],
    kind: m[1],
    specifiers: parseSpecifiers(m[2]),
  }));

/** Top-level names a declaration file declares (not its imports). */
const declaredNames = (text) =>
  new Set(
    [
      ...text.matchAll(
        /^(?:export )?(?:declare )?(?:abstract )?(?:class|function|const|let|var|enum|namespace|interface|type) ([\w$]+)/gm,
      ),
    ].map((m) => m[1]),
  );

/** Exported name → local name, from every `export { … };` without `from`. */
const localExports = (text) => {
  const names = new Map();
  for (const m of text.matchAll(/^export \{([^}]*)\};$/gm)) {
    for (const s of parseSpecifiers(m[1])) names.set(s.to, s.from);
  }
  return names;
};

/** External imports merged without duplicates: the chunk and the entry may import the same name. */
const mergeImports = (chunkBody, mainBody) => {
  const importLine = /^import \{([^}]*)\} from '([^.][^']*)';\n?/gm;
  const byModule = new Map();
  const take = (text) =>
    text.replace(importLine, (_line, list, module) => {
      const seen = byModule.get(module) ?? new Map();
      for (const s of parseSpecifiers(list)) {
        const previous = seen.get(s.to);
        if (previous && previous.from !== s.from)
          fail(`'${s.to}' imported twice from '${module}' under different names`);
        seen.set(s.to, s);
      }
      byModule.set(module, seen);
      return '';
    });
  const chunkRest = take(chunkBody);
  const mainRest = take(mainBody);
  const imports = [...byModule]
    .map(([module, specs]) => {
      const list = [...specs.values()].map(
        (s) => `${s.type ? 'type ' : ''}${s.from === s.to ? s.to : `${s.from} as ${s.to}`}`,
      );
      return `import { ${list.join(', ')} } from '${module}';\n`;
    })
    .join('');
  return imports + chunkRest + mainRest;
};

for (const [dts, js] of [
  ['.d.ts', '.js'],
  ['.d.cts', '.cjs'],
]) {
  const files = readdirSync(dist).filter((f) => f.endsWith(dts));
  const stem = (f) => f.slice(0, -dts.length);
  const mainFile = join(dist, `${MAIN}${dts}`);
  let main = readFileSync(mainFile, 'utf8');
  const entries = files.filter((f) => stem(f) !== MAIN);
  const found = files.filter((f) => /-[\w-]{8}$/.test(stem(f)));
  if (found.length === 0) continue;
  const others = entries.filter((f) => !found.includes(f));
  // Chunks may import each other. A chunk's imports land in the main entry when it is folded, so
  // every chunk is folded before the chunks it imports: those imports are then rewritten too.
  const texts = new Map(found.map((f) => [f, readFileSync(join(dist, f), 'utf8')]));
  const imports = (importer, imported) =>
    texts.get(importer).includes(`from './${stem(imported)}${js}'`);
  const chunks = [];
  const remaining = new Set(found);
  while (remaining.size > 0) {
    const next = [...remaining].find(
      (c) => ![...remaining].some((other) => other !== c && imports(other, c)),
    );
    if (next === undefined) fail(`the declaration chunks import each other in a cycle`);
    chunks.push(next);
    remaining.delete(next);
  }

  for (const chunk of chunks) {
    const spec = `./${stem(chunk)}${js}`;
    let body = readFileSync(join(dist, chunk), 'utf8');
    const exportLine = /^export \{([^}]*)\};\n?/m.exec(body);
    if (!exportLine) fail(`${chunk} has no export statement`);
    body = body.replace(exportLine[0], '');
    const chunkExports = new Map(parseSpecifiers(exportLine[1]).map((s) => [s.to, s]));
    const local = (alias, file) => {
      const s = chunkExports.get(alias);
      if (!s) fail(`${file} imports '${alias}' which ${chunk} does not export`);
      return s;
    };

    // 1. The main entry takes the chunk's declarations.
    const clash = [...declaredNames(body)].filter((n) => declaredNames(main).has(n));
    if (clash.length > 0) fail(`${chunk} and ${MAIN}${dts} both declare ${clash.join(', ')}`);
    const reexports = [];
    for (const statement of statementsFrom(main, spec)) {
      for (const s of statement.specifiers) {
        const target = local(s.from, `${MAIN}${dts}`);
        if (statement.kind === 'import' && target.from !== s.to) {
          fail(`${MAIN}${dts} imports '${target.from}' as '${s.to}'; renaming is not supported`);
        }
        if (statement.kind === 'export') {
          const prefix = target.type || s.type ? 'type ' : '';
          reexports.push(`${prefix}${target.from === s.to ? s.to : `${target.from} as ${s.to}`}`);
        }
      }
      main = main.replace(statement.text, '');
    }
    main = mergeImports(body, main);
    if (reexports.length > 0) main += `export { ${reexports.join(', ')} };\n`;

    // 2. The other entries import what they need from the main entry.
    const mainExports = localExports(main);
    const exportedAs = (localName, file) => {
      for (const [exported, l] of mainExports) if (l === localName) return exported;
      return fail(
        `${file} needs '${localName}', which '${MAIN}' does not export: export it from src/${MAIN}.ts`,
      );
    };
    for (const other of others) {
      let text = readFileSync(join(dist, other), 'utf8');
      for (const statement of statementsFrom(text, spec)) {
        const list = statement.specifiers.map((s) => {
          const exported = exportedAs(local(s.from, other).from, other);
          return `${s.type ? 'type ' : ''}${exported === s.to ? exported : `${exported} as ${s.to}`}`;
        });
        text = text.replace(
          statement.text,
          `${statement.kind} { ${list.join(', ')} } from './${MAIN}${js}';\n`,
        );
      }
      writeFileSync(join(dist, other), text);
    }
    rmSync(join(dist, chunk));
  }
  // Bare `import './<chunk>.js';` lines (a chunk imported for its types' side of a re-export)
  // name a file that no longer exists: drop them everywhere.
  const bare = (text) =>
    chunks.reduce(
      (t, c) =>
        t.replace(
          new RegExp(`^import '\\./${escapeRegExp(stem(c))}${escapeRegExp(js)}';\\n?`, 'gm'),
          '',
        ),
      text,
    );
  main = bare(main);
  for (const other of others) {
    const file = join(dist, other);
    writeFileSync(file, bare(readFileSync(file, 'utf8')));
  }
  writeFileSync(mainFile, main);
}
