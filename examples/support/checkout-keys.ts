// The keys of the checkout services in examples/cross-process.ts. Both processes register the
// same keys; a real service would import them from a shared package.
import { initialize, RegistryBuilder } from 'dcontext';

const builder = new RegistryBuilder();
export const requestId = builder.register<string>('request_id');
export const tenant = builder.register<string>('tenant');
export const user = builder.register<{ id: string; roles: string[] }>('user');
export const deadline = builder.register<Date>('deadline', { codec: 'superjson' });
// Local-only: stays in the process that set it.
export const dbConnection = builder.registerLocal<string>('db_connection');
initialize(builder);
