// Polling filters (eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter) with expiry: a filter not
// polled for `ttlMs` is removed, as geth does after 5 minutes. Buffers are bounded so a forgotten filter cannot grow.
import { randomBytes } from "node:crypto";
import type { FilterRequest } from "@rustchain/shared";
import type { LogJson } from "@rustchain/shared/rpc/results";

export interface FilterOptions {
  ttlMs: number;
  maxFilters: number;
  maxBuffered: number;
}
export const defaultFilterOptions: FilterOptions = { ttlMs: 5 * 60_000, maxFilters: 10_000, maxBuffered: 10_000 };

export type Filter =
  | { kind: "blocks"; buffer: string[]; lastPoll: number }
  | { kind: "pending"; buffer: string[]; lastPoll: number }
  | { kind: "logs"; request: FilterRequest; buffer: LogJson[]; lastPoll: number };

export class FilterManager {
  private readonly filters = new Map<string, Filter>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: FilterOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(opts.ttlMs, 30_000));
    this.sweeper.unref();
  }

  install(filter: Filter): string | undefined {
    if (this.filters.size >= this.opts.maxFilters) return undefined;
    // Quantity-shaped ids (no leading zeros), as clients send them back through quantity validation.
    const id = `0x${(BigInt(`0x${randomBytes(16).toString("hex")}`) | (1n << 127n)).toString(16)}`;
    this.filters.set(id, filter);
    return id;
  }

  get(id: bigint): [string, Filter] | undefined {
    const key = `0x${id.toString(16)}`;
    const f = this.filters.get(key);
    if (!f) return undefined;
    f.lastPoll = Date.now();
    return [key, f];
  }

  uninstall(id: bigint): boolean {
    return this.filters.delete(`0x${id.toString(16)}`);
  }

  /** Push an item to every filter of `kind`. */
  /** Whether any installed filter is of this kind. */
  has(kind: Filter["kind"]): boolean {
    for (const f of this.filters.values()) if (f.kind === kind) return true;
    return false;
  }

  push(kind: "blocks" | "pending", item: string): void {
    for (const f of this.filters.values()) if (f.kind === kind) this.append(f, [item]);
  }

  /** Append to one filter's buffer, dropping the oldest items beyond the cap. */
  append<F extends Filter>(f: F, items: F["buffer"]): void {
    if (items.length === 0) return;
    (f.buffer as unknown[]).push(...items);
    if (f.buffer.length > this.opts.maxBuffered) f.buffer.splice(0, f.buffer.length - this.opts.maxBuffered);
  }

  logFilters(): Filter[] {
    return [...this.filters.values()].filter((f) => f.kind === "logs");
  }

  private sweep(): void {
    const cutoff = Date.now() - this.opts.ttlMs;
    for (const [id, f] of this.filters) if (f.lastPoll < cutoff) this.filters.delete(id);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
