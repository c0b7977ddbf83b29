// The worker threads' registry. Worker files import the built package ('dcontext'), as an
// application does; build it first (`npm run build`). Node 20 cannot load TypeScript in a worker.
import { initialize, RegistryBuilder } from 'dcontext';

const builder = new RegistryBuilder();
export const requestId = builder.register('request_id');
export const tenant = builder.register('tenant');
export const session = builder.registerLocal('session');
initialize(builder);
