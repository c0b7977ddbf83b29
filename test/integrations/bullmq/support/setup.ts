/** The keys and the Redis connection every BullMQ test process uses. */
import { randomUUID } from 'node:crypto';
import { RegistryBuilder } from '../../../../src/index.js';

export const builder = new RegistryBuilder();
export const requestId = builder.register<string>('request_id');
export const tenant = builder.register<string>('tenant');
export const job = builder.register<number>('job_index');
export const secret = builder.registerLocal<string>('secret');
// At version 2; nobody registered how to upgrade version 1.
export const plan = builder.register<string>('plan', { version: 2 });

const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
/** BullMQ's connection options for the test server (REDIS_URL, default 127.0.0.1:6379). */
export const connection = {
  host: url.hostname,
  port: Number(url.port || 6379),
  ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
};

/** A queue name of its own for each test run. */
export function queueName(what: string): string {
  return `dcontext-test-${what}-${randomUUID().slice(0, 8)}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
