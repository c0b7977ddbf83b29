import { DContextError } from '../errors.js';

/**
 * The error for a call this runtime cannot serve: `feature` names what is missing (an API, a
 * hook, a worker feature), `instead` what to do. Thrown rather than losing context silently.
 */
export function unsupportedRuntime(feature: string, verb: string, instead: string): DContextError {
  return new DContextError(
    'UNSUPPORTED_RUNTIME',
    `${verb} needs ${feature}, which this runtime does not provide; ${instead}`,
  );
}
