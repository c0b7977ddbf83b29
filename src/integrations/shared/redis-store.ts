/** Shared contexts in Redis, through the user's ioredis client. */
import { DContextError } from '../../index.js';
import { checkId, checkWrite, DEFAULT_WRITER, intOption, invalid, optionsObject } from './check.js';
import { decodeRecord, encodeCommit } from './record-codec.js';
import type { RedisBatch, RedisClient } from './redis-client.js';
import { unavailable } from './redis-errors.js';
import { COMMIT_SCRIPT, COMMIT_SHA } from './redis-script.js';
import { followCommits } from './redis-subscribe.js';
import { rollbackOn } from './rollback.js';
import type {
  CommitHandlers,
  CommitResult,
  CommitSubscription,
  SharedContextStore,
  SharedRecord,
  SharedWrite,
} from './types.js';

/** Options of {@link RedisContextStore}. */
export interface RedisContextStoreOptions {
  /** An ioredis client (`new Redis(url)`); the store never closes it. */
  readonly redis: RedisClient;
  /** Prefix of every key and of the commit channel (default `'dcontext:shared:'`). */
  readonly prefix?: string;
  /** Expiry of a context (and its history) in ms after its last commit (default: never). */
  readonly ttl?: number;
  /** Versions kept per context for `history` and `rollback` (default 10). */
  readonly historySize?: number;
  /**
   * The connection `subscribe` listens on (a subscribed connection can run nothing else);
   * default `redis.duplicate()`, made on the first `subscribe` and closed with the subscription.
   */
  readonly subscriber?: RedisClient;
  /**
   * Records kept decoded, per id, with the bytes they were read from (default 1000, 0: none): a
   * read that finds the same bytes in Redis returns the same (immutable) record without decoding
   * it again. Only records that decoded without error are kept, so a corrupt or invalid record
   * fails every read.
   */
  readonly decodedRecords?: number;
}

/** A record decoded on a read, and a copy of the bytes it came from. */
interface Decoded {
  readonly bytes: Buffer;
  readonly record: SharedRecord;
}

const isNoScript = (error: unknown) =>
  error instanceof Error && error.message.startsWith('NOSCRIPT');

/** A commit's record and the bytes it is stored as. */
type Commit = ReturnType<typeof encodeCommit>;

/**
 * Shared contexts in Redis: a hash per context (`<prefix>{<id>}`: its version, its record, and its
 * last versions in a ring of `historySize` fields). A commit is one Lua script (`EVALSHA`, falling back
 * to `EVAL` when the server lacks it), so writers in any number of processes never lose an
 * update; `getMany` and `putMany` are pipelined. Commits are announced on `<prefix>commits`
 * for `ContextCache`s in other processes.
 *
 * Errors: an unreachable or failing Redis is `STORE_UNAVAILABLE` (configure the client's
 * `maxRetriesPerRequest` / `enableOfflineQueue` to choose how long a call waits first); a corrupt
 * record, or one written in a newer record format, is `DECODE_FAILED`.
 *
 * @example
 * const store = new RedisContextStore({ redis: new Redis(process.env.REDIS_URL), ttl: 86_400_000 });
 */
export class RedisContextStore implements SharedContextStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #historySize: number;
  /** `historySize` and `ttl` as the script's arguments (strings: ioredis sends them unconverted). */
  readonly #historyArg: string;
  readonly #ttlArg: string;
  readonly #subscriber: RedisClient | undefined;
  /**
   * The last record decoded per id (see option `decodedRecords`), oldest first. Measured: the
   * eager decode of a 10-entry record costs ~4 µs, comparing its 277 bytes ~0.1 µs.
   */
  readonly #decoded = new Map<string, Decoded>();
  readonly #maxDecoded: number;
  /** The channel commits are announced on. */
  readonly channel: string;

  constructor(options: RedisContextStoreOptions) {
    const object = optionsObject<RedisContextStoreOptions>(options, 'RedisContextStore');
    const redis = object.redis;
    if (typeof redis !== 'object' || redis === null || typeof redis.callBuffer !== 'function') {
      throw invalid('RedisContextStore needs { redis }: an ioredis client (new Redis(url))');
    }
    this.#redis = redis;
    const prefix = object.prefix ?? 'dcontext:shared:';
    if (typeof prefix !== 'string')
      throw invalid('RedisContextStore option prefix must be a string');
    this.#prefix = prefix;
    this.#ttl = intOption(object.ttl, 0, 0, 'RedisContextStore option ttl (ms, 0: never)');
    this.#historySize = intOption(
      object.historySize,
      10,
      1,
      'RedisContextStore option historySize',
    );
    // 0 for "unbounded" / "never" (both options accept Infinity).
    this.#historyArg = Number.isFinite(this.#historySize) ? String(this.#historySize) : '0';
    this.#ttlArg = Number.isFinite(this.#ttl) ? String(this.#ttl) : '0';
    this.#subscriber = object.subscriber;
    this.#maxDecoded = intOption(
      object.decodedRecords,
      1000,
      0,
      'RedisContextStore option decodedRecords',
    );
    this.channel = `${prefix}commits`;
  }

  #key(id: string): string {
    return `${this.#prefix}{${id}}`;
  }

  #decode(id: string, bytes: Buffer | null | undefined): SharedRecord | undefined {
    const decoded = this.#decoded;
    if (bytes === null || bytes === undefined) {
      decoded.delete(id);
      return undefined;
    }
    const known = decoded.get(id);
    if (known?.bytes.equals(bytes)) return known.record;
    const record = decodeRecord(id, bytes);
    if (this.#maxDecoded > 0) {
      if (known === undefined && decoded.size >= this.#maxDecoded) {
        decoded.delete(decoded.keys().next().value as string);
      }
      // A copy: a reply may be a view of a larger socket buffer, which must not be kept alive.
      decoded.set(id, { bytes: Buffer.from(bytes), record });
    }
    return record;
  }

  async get(id: string): Promise<SharedRecord | undefined> {
    checkId(id, 'RedisContextStore.get');
    let bytes: Buffer | null;
    try {
      bytes = await this.#redis.hgetBuffer(this.#key(id), 'r');
    } catch (error) {
      throw unavailable(error, `get('${id}')`);
    }
    return this.#decode(id, bytes);
  }

  async getMany(ids: readonly string[]): Promise<(SharedRecord | undefined)[]> {
    for (const id of ids) checkId(id, 'RedisContextStore.getMany');
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetBuffer(this.#key(id), 'r');
    const replies = await this.#exec(pipeline, `getMany of ${ids.length} ids`);
    return ids.map((id, i) => this.#decode(id, replies[i] as Buffer | null));
  }

  /** The record `write` commits if its compare-and-set holds, and its bytes (throws if it cannot be stored). */
  #encode(write: SharedWrite): Commit {
    return encodeCommit(
      write.id,
      write.entries,
      write.expectedVersion + 1,
      write.updatedBy ?? DEFAULT_WRITER,
    );
  }

  /** The script's arguments after its SHA (or text): strings and bytes, sent as they are. */
  #args(write: SharedWrite, bytes: Buffer): (string | Buffer)[] {
    return [
      '1',
      this.#key(write.id),
      String(write.expectedVersion),
      bytes,
      this.#historyArg,
      this.#ttlArg,
      this.channel,
      write.id,
    ];
  }

  #result(write: SharedWrite, commit: Commit, reply: unknown): CommitResult {
    const [committed, current] = reply as [number, Buffer | null];
    if (committed === 1) return { ok: true, record: commit.record };
    return { ok: false, current: this.#decode(write.id, current) };
  }

  async put(write: SharedWrite): Promise<CommitResult> {
    checkWrite(write, 'RedisContextStore.put');
    const commit = this.#encode(write);
    const args = this.#args(write, commit.bytes);
    let reply: unknown;
    try {
      try {
        reply = await this.#redis.callBuffer('evalsha', COMMIT_SHA, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        reply = await this.#redis.callBuffer('eval', COMMIT_SCRIPT, ...args);
      }
    } catch (error) {
      throw unavailable(error, `put('${write.id}')`);
    }
    return this.#result(write, commit, reply);
  }

  async putMany(writes: readonly SharedWrite[]): Promise<CommitResult[]> {
    // Checked and encoded first, so a bad write sends none of the batch.
    for (const write of writes) checkWrite(write, 'RedisContextStore.putMany');
    if (writes.length === 0) return [];
    const encoded = writes.map((write) => this.#encode(write));
    const run = async (script: boolean) => {
      const pipeline = this.#redis.pipeline();
      writes.forEach((write, i) => {
        const args = this.#args(write, encoded[i]!.bytes);
        pipeline.callBuffer(
          script ? 'eval' : 'evalsha',
          script ? COMMIT_SCRIPT : COMMIT_SHA,
          ...args,
        );
      });
      return pipeline.exec();
    };
    let results: [Error | null, unknown][] | null;
    try {
      results = await run(false);
      // NOSCRIPT means no script of the batch ran (the server lacked it for all): send them again.
      if (results?.some(([error]) => isNoScript(error))) results = await run(true);
    } catch (error) {
      throw unavailable(error, `putMany of ${writes.length} writes`);
    }
    return writes.map((write, i) => {
      const [error, reply] = results?.[i] ?? [new Error('no reply'), undefined];
      if (error !== null) throw unavailable(error, `put('${write.id}')`);
      return this.#result(write, encoded[i]!, reply);
    });
  }

  async #exec(pipeline: RedisBatch, what: string): Promise<unknown[]> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw unavailable(error, what);
    }
    return (results ?? []).map(([error, reply]) => {
      if (error !== null) throw unavailable(error, what);
      return reply;
    });
  }

  async history(id: string): Promise<SharedRecord[]> {
    checkId(id, 'RedisContextStore.history');
    let fields: Record<string, Buffer>;
    try {
      fields = await this.#redis.hgetallBuffer(this.#key(id));
    } catch (error) {
      throw unavailable(error, `history('${id}')`);
    }
    const records: SharedRecord[] = [];
    for (const [field, bytes] of Object.entries(fields)) {
      if (field.startsWith('h')) records.push(decodeRecord(id, bytes));
    }
    records.sort((a, b) => b.version - a.version);
    // A slot left by a process with a larger historySize may hold an older version: not kept.
    const newest = records[0]?.version ?? 0;
    return records.filter((record) => record.version > newest - this.#historySize);
  }

  rollback(
    id: string,
    version: number,
    options?: { readonly updatedBy?: string },
  ): Promise<SharedRecord> {
    checkId(id, 'RedisContextStore.rollback');
    // The version field, not the record: a corrupt current record can be rolled back.
    return rollbackOn(this, id, version, options?.updatedBy, () => this.#version(id));
  }

  /** The version the commit script compares against (0: none). */
  async #version(id: string): Promise<number> {
    let field: string | undefined;
    try {
      field = (await this.#redis.hgetBuffer(this.#key(id), 'v'))?.toString();
    } catch (error) {
      throw unavailable(error, `rollback('${id}')`);
    }
    const version = Number(field ?? 0);
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new DContextError(
        'DECODE_FAILED',
        `shared context '${id}' has a corrupt stored version (${JSON.stringify(field)}); delete it`,
      );
    }
    return version;
  }

  async delete(id: string): Promise<void> {
    checkId(id, 'RedisContextStore.delete');
    const key = this.#key(id);
    this.#decoded.delete(id);
    const transaction = this.#redis.multi();
    transaction.del(key);
    transaction.publish(this.channel, `0 ${id}`);
    await this.#exec(transaction, `delete('${id}')`);
  }

  /**
   * Listens to the commits of every process on this prefix. While the subscriber connection is
   * down, announcements are lost: `onGap` is called when it drops and `onResume` once it listens
   * again. Resolves once subscribed (a new subscriber connection is waited for while it connects).
   */
  subscribe(handlers: CommitHandlers): Promise<CommitSubscription> {
    const owned = this.#subscriber === undefined;
    const subscriber = this.#subscriber ?? this.#redis.duplicate();
    return followCommits(subscriber, owned, this.channel, handlers);
  }
}
