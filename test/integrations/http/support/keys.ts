/** The keys every HTTP test process registers: what a typical service carries. */
import { RegistryBuilder } from '../../../../src/index.js';

export const builder = new RegistryBuilder();
export const requestId = builder.register<string>('request_id', {
  validate: (value) => typeof value === 'string',
});
export const tenant = builder.register<string>('tenant', {
  validate: (value) => typeof value === 'string' && /^[a-z0-9-]{1,32}$/.test(value),
});
export const user = builder.register<string>('user');
export const secret = builder.registerLocal<string>('secret');
