#!/usr/bin/env node
/**
 * The `dcontext` command: `npx dcontext decode <base64url-or-hex>` prints what a serialized
 * context header holds.
 */
import { runCli } from './run.js';

process.exitCode = runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
