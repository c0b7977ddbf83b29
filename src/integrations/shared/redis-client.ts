/**
 * The part of an ioredis client `RedisContextStore` uses, as a structural type: an ioredis 5
 * `Redis` fits it, and dcontext's published types never import ioredis (an optional peer), so a
 * project without it still type-checks.
 */

/** A command batch (`redis.pipeline()` or `redis.multi()`). */
export interface RedisBatch {
  hgetBuffer(key: string, field: string): unknown;
  callBuffer(command: string, ...args: (string | Buffer | number)[]): unknown;
  del(...keys: string[]): unknown;
  publish(channel: string, message: string): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** An ioredis client (`new Redis(url)` from ioredis 5). */
export interface RedisClient {
  hgetBuffer(key: string, field: string): Promise<Buffer | null>;
  hgetallBuffer(key: string): Promise<Record<string, Buffer>>;
  callBuffer(command: string, ...args: (string | Buffer | number)[]): Promise<unknown>;
  pipeline(): RedisBatch;
  multi(): RedisBatch;
  duplicate(): RedisClient;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  /** ioredis's connection state (`'ready'` once it accepts commands). */
  readonly status?: string;
  on(event: string, listener: (...args: string[]) => void): unknown;
  off(event: string, listener: (...args: string[]) => void): unknown;
}
