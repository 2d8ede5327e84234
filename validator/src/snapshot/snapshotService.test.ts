// The snapshot service on a pruning node never asks for a snapshot at a block whose state is gone: its next target
// moves up to the first multiple of `every` the node still holds.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { CheckpointStore } from "../db/checkpointStore.ts";
import { defaultSnapshotExportOptions, type ExportSource } from "./exporter.ts";
import { SnapshotService } from "./snapshotService.ts";

describe("SnapshotService", () => {
  it("targets the first multiple of --snapshot-every at or above the first block whose state is kept", async () => {
    const asked: bigint[] = [];
    const source = {
      checkpoints: {
        certificateCovering: async (n: bigint) => {
          asked.push(n);
          return undefined;
        },
      } as unknown as CheckpointStore,
    } as ExportSource;
    const service = new SnapshotService(
      { every: 100, keep: 3, pollMs: 10, export: defaultSnapshotExportOptions },
      {
        source,
        stores: [],
        finalizedNumber: () => 5000n,
        retention: { firstAvailableBlock: () => 1234n },
        logger: pino({ level: "silent" }),
      },
    );
    service.start();
    for (let i = 0; i < 200 && asked.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await service.stop();
    // With no snapshot yet the next target would be block 0, long pruned on this node.
    expect(asked[0]).toBe(1300n);
  });
});
