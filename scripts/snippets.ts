/**
 * The docs' TypeScript snippets, as CI checks them: every ```ts block of README.md and
 * docs/*.md must type-check (strict, nodenext) and run as pasted, each in its own process.
 *
 * Conventions for the docs:
 * - A block is a whole program: its imports, its registry, its `initialize`. It runs as an ES
 *   module (top-level `await` works) from a folder inside the repository, so `dcontext` and
 *   `dcontext/worker` resolve to the built package (dist/) by self-reference.
 * - ```` ```ts no-run ```` marks a block that is type-checked but not run, because it cannot run
 *   standalone by nature (it needs a worker file, a server, a queue). Use it sparingly.
 * - Blocks with another info string (```` ```sh ````, ```` ```text ````, …) are not checked.
 *
 * Used by `test/docs/snippets.test.ts` (one test per snippet) and `scripts/check-snippets.ts`
 * (`npm run check:snippets`).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

/**
 * Pages whose snippets are being rewritten to run standalone (issue #10): their snippets are
 * reported as skipped, not run. Remove a page from this list once its snippets are whole programs.
 */
export const PENDING_PAGES: readonly string[] = ['docs/threads.md'];

export interface Snippet {
  /** The markdown file, relative to the repository root. */
  source: string;
  /** The line of the markdown file where the code starts (after the fence). */
  line: number;
  code: string;
  run: boolean;
  /** The snippet's file name in the check folder. */
  file: string;
}

export interface SnippetFailure {
  /** `docs/usage-guide.md:12` */
  at: string;
  message: string;
}

/** README.md and docs/*.md, in that order. */
export function markdownFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function extractSnippets(root: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const source of markdownFiles(root)) {
    const lines = readFileSync(join(root, source), 'utf8').split('\n');
    let open: { info: string; start: number; body: string[] } | undefined;
    lines.forEach((text, index) => {
      const fence = /^(\s*)```(.*)$/.exec(text);
      if (!open && fence) {
        open = { info: (fence[2] ?? '').trim(), start: index + 2, body: [] };
      } else if (open && fence && (fence[2] ?? '').trim() === '') {
        const [lang, ...flags] = open.info.split(/\s+/);
        if (lang === 'ts' || lang === 'typescript') {
          const file = `${source.replace(/\.md$/, '').replace(/[^\w]+/g, '-')}-${open.start}.ts`;
          snippets.push({
            source,
            line: open.start,
            code: `${open.body.join('\n')}\n`,
            run: !flags.includes('no-run'),
            file,
          });
        }
        open = undefined;
      } else if (open) {
        open.body.push(text);
      }
    });
  }
  return snippets;
}

/** Writes the snippets and a strict nodenext tsconfig into a fresh folder inside the repository. */
export function writeSnippets(root: string, snippets: Snippet[]): string {
  const dir = join(root, '.snippets', String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const s of snippets) writeFileSync(join(dir, s.file), s.code);
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2023', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    moduleDetection: 'force',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }));
  return dir;
}

/** Type-checks the folder in one tsc run; the errors of each snippet file, keyed by file name. */
export async function typeCheck(
  root: string,
  dir: string,
  snippets: Snippet[],
): Promise<Map<string, SnippetFailure[]>> {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  let output = '';
  try {
    // Asynchronous: a test worker whose event loop blocks for long makes vitest's RPC time out.
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], {
      cwd: dir,
      encoding: 'utf8',
    });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  const byFile = new Map<string, SnippetFailure[]>();
  for (const match of output.matchAll(/^([^\s(]+)\((\d+),\d+\): (error .*)$/gm)) {
    const [, file = '', line = '0', message = ''] = match;
    const snippet = snippets.find((s) => s.file === file);
    const at = snippet ? `${snippet.source}:${snippet.line + Number(line) - 1}` : `${file}:${line}`;
    byFile.set(file, [...(byFile.get(file) ?? []), { at, message }]);
  }
  if (output && byFile.size === 0)
    byFile.set('tsconfig.json', [{ at: relative(root, dir), message: output }]);
  return byFile;
}

/** Runs one snippet with `node --import tsx` in its own process. */
export function runSnippet(
  dir: string,
  snippet: Snippet,
  timeoutMs = 30_000,
): Promise<SnippetFailure | undefined> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', snippet.file],
      { cwd: dir, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(undefined);
        // Point at the markdown line of the first frame in the snippet, when the stack has one.
        const frame = new RegExp(`${snippet.file.replace('.', '\\.')}:(\\d+)`).exec(stderr);
        const line = snippet.line + (frame ? Number(frame[1]) - 1 : 0);
        resolve({
          at: `${snippet.source}:${line}`,
          message: `${error.message}\n${stdout}${stderr}`.trim(),
        });
      },
    );
  });
}
