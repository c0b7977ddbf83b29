// `npm run check:snippets`: type-checks and runs every ```ts block of README.md and docs/*.md
// (conventions in ./snippets.ts) and prints file:line of each failure. Needs dist/ (the npm
// script builds it when stale).
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  extractSnippets,
  PENDING_PAGES,
  runSnippet,
  type SnippetFailure,
  typeCheck,
  writeSnippets,
} from './snippets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const all = extractSnippets(root);
const snippets = all.filter((s) => !PENDING_PAGES.includes(s.source));
const pending = all.length - snippets.length;
const dir = writeSnippets(root, snippets);
try {
  const typeErrors = await typeCheck(root, dir, snippets);
  const failures: SnippetFailure[] = [...typeErrors.values()].flat();
  const queue = snippets.filter((s) => s.run);
  const worker = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const failure = await runSnippet(dir, s);
      if (failure) failures.push(failure);
    }
  };
  await Promise.all([worker(), worker(), worker()]); // a few at a time: each is a Node process
  for (const f of failures) console.error(`${f.at}: ${f.message}\n`);
  const ran = snippets.filter((s) => s.run).length;
  console.log(
    `${snippets.length} snippets (${ran} run, ${snippets.length - ran} type-checked only): ${failures.length} failure(s)` +
      (pending > 0
        ? `; ${pending} skipped on pages pending a rewrite (${PENDING_PAGES.join(', ')})`
        : ''),
  );
  process.exitCode = failures.length > 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
