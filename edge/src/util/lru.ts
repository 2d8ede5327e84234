// A least-recently-used map bounded in entries and in a cost per entry (bytes, characters). Map iteration order is
// insertion order, so re-inserting on every hit keeps the least recently used key first, where eviction takes it.

export interface LruOptions<V> {
  /** Most entries kept. */
  maxEntries: number;
  /** Most cost kept over all entries; an entry costing more than this is not stored. */
  maxCost: number;
  /** What one entry costs. */
  cost(key: string, value: V): number;
}

export class Lru<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(private readonly opts: LruOptions<V>) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const cost = this.opts.cost(key, value);
    if (cost > this.opts.maxCost) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.total -= this.opts.cost(key, old);
    }
    this.entries.set(key, value);
    this.total += cost;
    while (this.entries.size > this.opts.maxEntries || this.total > this.opts.maxCost) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value[0]);
      this.total -= this.opts.cost(oldest.value[0], oldest.value[1]);
    }
  }
}
