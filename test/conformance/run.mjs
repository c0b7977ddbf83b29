// Entry point of the conformance suite (see suite.mjs): exits 1 when a test fails.
import { run } from './runner.mjs';
import './suite.mjs';

process.exitCode = (await run()) > 0 ? 1 : 0;
