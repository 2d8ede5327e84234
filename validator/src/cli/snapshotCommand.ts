// `rustchain snapshot list|verify` and the snapshot flags of `rustchain node` / `rustchain devnet` (docs/sync.md).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeError } from "@rustchain/shared";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import { decodeManifest, SNAPSHOT_ID_PATTERN, snapshotKeys } from "@rustchain/shared/snapshot/manifest";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { Database } from "../db/database.ts";
import { loadGenesisFile, type NodeOptions } from "../node/node.ts";
import { defaultSnapshotExportOptions } from "../snapshot/exporter.ts";
import { openObjectStore } from "../snapshot/objectStore.ts";
import { createSyncProgress } from "../snapshot/progress.ts";
import { listSnapshotIds, storeSource } from "../snapshot/sources.ts";
import { defaultWarpSyncOptions, warpSync } from "../snapshot/warpSync.ts";
import { defaultStateDbOptions, StateDb } from "../state/stateDb.ts";
import { parseCheckpoint } from "./argParsers.ts";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function checkLocation(value: string): string {
  if (value.startsWith("s3://")) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(value)) {
      throw new InvalidArgumentError("expected s3://bucket[/prefix]");
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new InvalidArgumentError("expected s3://bucket[/prefix] or a directory");
  }
  return value;
}

/** A location with an optional trailing snapshot id: s3://bucket/prefix/000000001234-abcd0123. */
function splitSnapshotUrl(value: string): { location: string; id: string | undefined } {
  const parts = value.replace(/\/+$/, "").split("/");
  const last = parts.at(-1) ?? "";
  if (SNAPSHOT_ID_PATTERN.test(last)) return { location: parts.slice(0, -1).join("/"), id: last };
  return { location: value, id: undefined };
}

/** The snapshot flags shared by `node` and `devnet`. */
export function addSnapshotExportOptions(cmd: Command): Command {
  return cmd
    .option(
      "--snapshot-every <blocks>",
      "export a state snapshot every <blocks> finalized blocks (kept in <datadir>/snapshots and served to peers)",
      positiveInt,
    )
    .option("--snapshot-to <s3-url>", "also upload snapshots to s3://bucket/prefix (or a directory)", checkLocation)
    .option("--snapshot-keep <n>", "snapshots kept in each store (older ones are deleted)", positiveInt, 3)
    .option(
      "--snapshot-chunk-bytes <n>",
      "decompressed bytes per snapshot chunk (smaller: finer resume and progress, more objects)",
      positiveInt,
      defaultSnapshotExportOptions.chunkBytes,
    );
}

export function addWarpSyncOptions(cmd: Command): Command {
  return cmd
    .option(
      "--warp-sync <s3-url>",
      "on an empty datadir, restore state from the newest snapshot at s3://bucket/prefix[/<id>] (or a directory)",
      checkLocation,
    )
    .option(
      "--sync-mode <mode>",
      "full: replay blocks from peers; snap: restore a snapshot from peers (and from --warp-sync too when given)",
      (v: string) => {
        if (v !== "full" && v !== "snap") throw new InvalidArgumentError("expected full or snap");
        return v;
      },
      "full",
    )
    .option(
      "--warp-sync-concurrency <n>",
      "snapshot chunks downloaded at once",
      positiveInt,
      defaultWarpSyncOptions.concurrency,
    );
}

type SnapshotFlags = {
  snapshotEvery?: number;
  snapshotChunkBytes?: number;
  warpSyncConcurrency?: number;
  snapshotTo?: string;
  snapshotKeep: number;
  warpSync?: string;
  syncMode?: "full" | "snap";
};

/** NodeOptions for the snapshot flags; throws a message for inconsistent ones. */
export function snapshotNodeOptions(o: SnapshotFlags): Pick<NodeOptions, "snapshots" | "warpSync"> {
  if (o.snapshotTo && !o.snapshotEvery) throw new InvalidArgumentError("--snapshot-to needs --snapshot-every");
  const out: Pick<NodeOptions, "snapshots" | "warpSync"> = {};
  if (o.snapshotEvery) {
    out.snapshots = {
      every: o.snapshotEvery,
      keep: o.snapshotKeep,
      stores: o.snapshotTo ? [openObjectStore(o.snapshotTo)] : [],
      export: o.snapshotChunkBytes ? { chunkBytes: o.snapshotChunkBytes } : {},
    };
  }
  if (o.warpSync || o.syncMode === "snap") {
    const split = o.warpSync ? splitSnapshotUrl(o.warpSync) : undefined;
    out.warpSync = {
      stores: split ? [openObjectStore(split.location)] : [],
      fromPeers: o.syncMode === "snap",
      options: {
        ...(split?.id ? { snapshotId: split.id } : {}),
        ...(o.warpSyncConcurrency ? { concurrency: o.warpSyncConcurrency } : {}),
      },
    };
  }
  return out;
}

export function registerSnapshotCommand(program: Command): void {
  const snapshot = program.command("snapshot").description("list and verify state snapshots (docs/sync.md)");

  snapshot
    .command("list")
    .description("list the complete snapshots in s3://bucket/prefix (or a directory), oldest first")
    .argument("<location>", "s3://bucket/prefix or a directory", checkLocation)
    .option("--json", "print JSON", false)
    .action(async (location: string, o: { json: boolean }) => {
      const store = openObjectStore(location);
      const rows = [];
      for (const id of await listSnapshotIds(store)) {
        try {
          const m = decodeManifest(await store.get(snapshotKeys.manifest(id)));
          rows.push({
            id,
            number: Number(m.block.number),
            hash: `0x${Buffer.from(m.block.hash).toString("hex")}`,
            stateRoot: `0x${Buffer.from(m.stateRoot).toString("hex")}`,
            createdAt: m.createdAt,
            chunks: m.chunks.length,
            bytes: m.chunks.reduce((n, c) => n + c.size, 0),
          });
        } catch (e) {
          rows.push({ id, error: describeError(e) });
        }
      }
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      if (rows.length === 0) {
        console.log(`no snapshots in ${store.location}`);
        return;
      }
      for (const r of rows) {
        if ("error" in r) console.log(`${r.id}  unreadable manifest: ${r.error}`);
        else {
          const mib = (r.bytes / 1024 / 1024).toFixed(1);
          console.log(`${r.id}  block ${r.number}  ${r.hash}  ${r.chunks} chunks  ${mib} MiB  ${r.createdAt}`);
        }
      }
    });

  snapshot
    .command("verify")
    .description("download a snapshot and check everything (certificates, headers, every chunk's proofs, coverage)")
    .argument(
      "<location>",
      "s3://bucket/prefix[/<id>] or a directory[/<id>] (default: the newest snapshot)",
      checkLocation,
    )
    .requiredOption("--genesis <file>", "the chain's genesis JSON (its validators anchor the certificate chain)")
    .option("--checkpoint <number:hash>", "verify certificates from this weak-subjectivity checkpoint instead")
    .option("--concurrency <n>", "chunks downloaded at once", positiveInt, defaultWarpSyncOptions.concurrency)
    .action(async (value: string, o: { genesis: string; checkpoint?: string; concurrency: number }) => {
      const logger = pino({ level: "info" }, pino.destination(2));
      const { location, id } = splitSnapshotUrl(value);
      const genesis = await loadGenesisFile(o.genesis);
      const checkpoint = o.checkpoint ? parseCheckpoint(o.checkpoint) : undefined;
      // The genesis hash needs the genesis state built in a trie: a scratch database, deleted afterwards.
      const scratch = await mkdtemp(join(tmpdir(), "rustchain-verify-"));
      const db = await Database.open(join(scratch, "db"));
      try {
        const state = new StateDb(defaultStateDbOptions, { db });
        const result = await warpSync(
          { ...defaultWarpSyncOptions, concurrency: o.concurrency, snapshotId: id, checkpoint, dryRun: true },
          {
            db,
            state,
            genesis,
            sources: [storeSource(openObjectStore(location))],
            crypto: nativeCertificateCrypto,
            logger,
            progress: createSyncProgress(logger),
          },
        );
        if (result) {
          console.log(
            `snapshot ${result.id} verified: block ${result.number} 0x${Buffer.from(result.hash).toString("hex")}, ${result.downloaded} chunks`,
          );
        }
      } catch (e) {
        console.error(`error: ${describeError(e)}`);
        process.exitCode = 1;
      } finally {
        await db.close();
        await rm(scratch, { recursive: true, force: true });
      }
    });
}
