// The node's snapshot exporter in the background (`--snapshot-every`): whenever the finalized chain has grown by
// `every` blocks since the last snapshot, export one at the latest certified block to every store, then keep only the
// newest `keep` there. One export at a time; a failed export is logged and retried at the next opportunity, and block
// production never waits for it (exporter.ts reads a finalized root, never the head).
import { describeError } from "@rustchain/shared";
import { snapshotKeys } from "@rustchain/shared/snapshot/manifest";
import type { Logger } from "pino";
import type { StateRetention } from "../state/stateRetention.ts";
import { type ExportSource, exportSnapshot, type SnapshotExportOptions } from "./exporter.ts";
import type { ObjectStore } from "./objectStore.ts";
import { listSnapshotIds } from "./sources.ts";

export interface SnapshotServiceOptions {
  /** Finalized blocks between two snapshots. */
  every: number;
  /** Snapshots kept in each store (older ones are deleted, manifest first). */
  keep: number;
  /** How often to look at the finalized number, in ms. */
  pollMs: number;
  export: SnapshotExportOptions;
}

export class SnapshotService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastNumber: bigint | undefined;
  /** Exports finished since start (for tests and metrics). */
  exported = 0;

  constructor(
    private readonly opts: SnapshotServiceOptions,
    private readonly modules: {
      source: ExportSource;
      stores: readonly ObjectStore[];
      finalizedNumber: () => bigint;
      /** A pruning node's state retention: no snapshot is attempted at a block whose state is gone. */
      retention?: Pick<StateRetention, "firstAvailableBlock">;
      logger: Logger;
      onExported?: (id: string) => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.maybeExport()
      .catch((e) => this.modules.logger.warn({ err: describeError(e) }, "Snapshot export failed; will retry"))
      .finally(() => {
        this.running = undefined;
      });
  }

  private async maybeExport(): Promise<void> {
    const { stores, logger, source } = this.modules;
    const every = BigInt(this.opts.every);
    if (this.lastNumber === undefined) {
      const ids = (await Promise.all(stores.map((s) => listSnapshotIds(s)))).flat().sort();
      const last = ids.at(-1);
      this.lastNumber = last ? BigInt(last.slice(0, 12)) : -1n;
    }
    // Snapshots are pinned to the first certified block at or above each multiple of `every`, so validators that
    // export independently pin the same blocks and peers can serve a snap-syncing node the same chunks.
    let target = (this.lastNumber / every + 1n) * every;
    // A node that started exporting late (or was down long) may have pruned that state: the first multiple it holds.
    const first = this.modules.retention?.firstAvailableBlock();
    if (first !== undefined && target < first) target = ((first + every - 1n) / every) * every;
    if (this.modules.finalizedNumber() < target) return;
    const pin = await source.checkpoints.certificateCovering(target);
    if (!pin) return;
    const result = await exportSnapshot(this.opts.export, source, stores, logger, pin);
    if (!result) return;
    this.lastNumber = BigInt(result.id.slice(0, 12));
    if (result.manifest) {
      this.exported++;
      this.modules.onExported?.(result.id);
    }
    for (const store of stores) await pruneSnapshots(store, this.opts.keep, logger);
  }
}

/** Keep the newest `keep` snapshots: an older one loses its manifest first (it is no longer listed), then its chunks. */
export async function pruneSnapshots(store: ObjectStore, keep: number, logger: Logger): Promise<string[]> {
  const ids = await listSnapshotIds(store);
  const old = ids.slice(0, Math.max(0, ids.length - keep));
  for (const id of old) {
    await store.delete([snapshotKeys.manifest(id)]);
    const rest = await store.list(`${id}/`);
    await store.delete(rest.map((o) => o.key));
    logger.info({ id, store: store.location }, "Deleted old snapshot");
  }
  return old;
}
