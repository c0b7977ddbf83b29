// The dcontext demo: grows with the library. Run with `npm run demo`.
import { DContextError } from '../src/index.js';

const error = new DContextError('NOT_INITIALIZED', 'dcontext is not initialized yet');
console.log(`dcontext skeleton: errors carry stable codes (${error.code})`);
