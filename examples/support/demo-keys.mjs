// The registry shared by the demo's worker thread and child process (they import the built
// package, as an application would).
import { initialize, RegistryBuilder } from 'dcontext';

const builder = new RegistryBuilder();
export const requestId = builder.register('request_id');
export const tenant = builder.register('tenant', { default: () => 'public' });
initialize(builder);
