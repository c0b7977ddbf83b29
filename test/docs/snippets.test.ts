import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractSnippets,
  PENDING_PAGES,
  runSnippet,
  type SnippetFailure,
  typeCheck,
  writeSnippets,
} from '../../scripts/snippets.js';

// Every ```ts block of README.md and docs/*.md, type-checked and run as pasted against the built
// package (conventions in scripts/snippets.ts). A failure names the markdown file and line.
const root = fileURLToPath(new URL('../..', import.meta.url));
const snippets = extractSnippets(root);
let dir = '';
let typeErrors = new Map<string, SnippetFailure[]>();

beforeAll(async () => {
  dir = writeSnippets(root, snippets);
  typeErrors = await typeCheck(root, dir, snippets);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (failures: SnippetFailure[]) => failures.map((f) => `${f.at}: ${f.message}`);

describe.concurrent('docs snippets work as pasted', () => {
  it('the docs have snippets to check', () => {
    expect(snippets.length).toBeGreaterThan(0);
    expect(report(typeErrors.get('tsconfig.json') ?? [])).toEqual([]);
  });

  for (const snippet of snippets) {
    const verb = snippet.run ? 'type-checks and runs' : 'type-checks (no-run)';
    const pending = PENDING_PAGES.includes(snippet.source);
    it.skipIf(pending)(`${snippet.source}:${snippet.line} ${verb}`, async () => {
      expect(report(typeErrors.get(snippet.file) ?? [])).toEqual([]);
      if (!snippet.run) return;
      const failure = await runSnippet(dir, snippet);
      expect(failure && report([failure])).toBeUndefined();
    });
  }
});
