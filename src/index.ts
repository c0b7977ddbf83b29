export { DContextError, type DContextErrorCode, isDContextError } from './errors.js';
