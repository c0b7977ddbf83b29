// `npm test` and `npm run demo` need dist/ (workers and the CLI load the built package), but a
// full build takes ~10 s: build only when dist/ is missing a file or older than its inputs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const inputs = [
  'src',
  'tsup.config.ts',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
  'scripts/inline-dts-chunks.mjs',
];
const outputs = [
  'cli.js',
  'index.js',
  'index.cjs',
  'index.d.ts',
  'index.d.cts',
  'worker.js',
  'worker.cjs',
  'worker.d.ts',
  'worker.d.cts',
  'otel.js',
  'otel.cjs',
  'bullmq.js',
  'bullmq.cjs',
  'nats.js',
  'nats.cjs',
  'shared.js',
  'shared.cjs',
].map((f) => join('dist', f));

const mtimes = (path) =>
  statSync(path).isDirectory()
    ? readdirSync(path).flatMap((f) => mtimes(join(path, f)))
    : [statSync(path).mtimeMs];

const reason = (() => {
  const missing = outputs.find((f) => !existsSync(f));
  if (missing) return `${missing} is missing`;
  const newestInput = Math.max(...inputs.filter((f) => existsSync(f)).flatMap(mtimes));
  const oldestOutput = Math.min(...outputs.flatMap(mtimes));
  return newestInput > oldestOutput ? 'the sources changed since the last build' : undefined;
})();

if (reason) {
  console.log(`build: ${reason}`);
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  } catch (error) {
    process.exit(error.status ?? 1); // the build has printed why
  }
}
