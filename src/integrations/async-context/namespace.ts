/** The members of the `AsyncContext` namespace, as the proposal names them. */
export { Snapshot } from './snapshot.js';
export { Variable } from './variable.js';
