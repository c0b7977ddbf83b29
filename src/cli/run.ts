import { causeText, isDContextError } from '../errors.js';
import { inspectWire } from '../wire/inspect.js';
import { readInput } from './read-input.js';

/** Where the command writes; the real process streams, or buffers in tests. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage: dcontext decode <base64url-or-hex>

Prints the debug view (JSON) of a serialized dcontext context: scope chain, and for each entry
its key, version, codec and value (shown where the payload is MessagePack or superjson).
No registry is needed. Exits 1 on malformed input.
`;

/** Runs the `dcontext` command with `args` (without node and script); returns the exit code. */
export function runCli(args: readonly string[], output: CliOutput): number {
  const [command, input, ...rest] = args;
  if (command === '--help' || command === '-h' || command === 'help') {
    output.out(USAGE);
    return 0;
  }
  if (command !== 'decode' || input === undefined || rest.length > 0) {
    output.err(USAGE);
    return 1;
  }
  try {
    const view = inspectWire(readInput(input));
    output.out(`${JSON.stringify(view, null, 2)}\n`);
    return 0;
  } catch (error) {
    const message = causeText(error);
    const code = isDContextError(error) ? error.code : 'DECODE_FAILED';
    output.err(`dcontext: ${code}: ${message.replace(/\s+/g, ' ')}\n`);
    return 1;
  }
}
