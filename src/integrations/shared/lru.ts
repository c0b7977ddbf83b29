/** A bounded least-recently-used map with per-entry expiry: the cache's in-process tier. */
export class Lru<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #max: number;
  readonly #ttl: number;
  /** The most recently used key: a hit on it moves nothing (the common case for a hot id). */
  #newest: string | undefined;

  /** At most `max` entries, each kept `ttl` ms after it was set (0: no expiry). */
  constructor(max: number, ttl: number) {
    this.#max = max;
    this.#ttl = ttl;
  }

  /** The value, made most recently used; `undefined` when absent or expired. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#ttl > 0 && entry.expires <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    if (key !== this.#newest) {
      // Map keeps insertion order: re-inserting makes it the newest.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    return entry.value;
  }

  /** The value without touching its recency (`undefined` when absent or expired). */
  peek(key: string): V | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined || (this.#ttl > 0 && entry.expires <= Date.now())
      ? undefined
      : entry.value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#ttl > 0 ? Date.now() + this.#ttl : 0 });
    this.#newest = key;
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
    if (key === this.#newest) this.#newest = undefined;
  }

  clear(): void {
    this.#entries.clear();
    this.#newest = undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}
