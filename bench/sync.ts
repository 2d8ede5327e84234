// `npm run bench:sync`: a warp sync of a state with --accounts funded accounts (default 1,000,000) against a full
// replay of the chain that built it, on this machine, in this process:
//   1. build (not a compared figure): a one-validator node (no p2p) whose genesis funds the senders; value transfers
//      fund `accounts` distinct new accounts. A worker thread signs them, the feed adds them to the node's mempool
//      about one block's worth at a time, sized so that blocks land early enough in their slot to be attested (a late
//      block is orphaned). Waits until all are included and a finality certificate covers them;
//   2. export a snapshot at the latest certified block to an S3 server (s3rver on 127.0.0.1) with exportSnapshot;
//   3. warp_s: warpSync from that S3 store into a fresh datadir (native BLS); a node opened on the result must have
//      the source's state root at the snapshot block;
//   4. replay_s: a fresh node with the same genesis (no key, no network) imports every block 1..snapshot block through
//      Chain.importBlock, the call range sync makes (senders recovered, consensus rules and every root checked), and
//      must end at the same state root.
// Ends with one line: sync warp_s=<s> replay_s=<s> ratio=<replay_s/warp_s>
//
// Options: --accounts N (or env SYNC_BENCH_ACCOUNTS; default 1000000), --senders S (default N/100, at most 10000),
//   --slot-ms MS (the source chain's slot, default 1000), --concurrency C (warp sync's chunks in flight, default
//   defaultWarpSyncOptions'), --node-log-level LEVEL (the nodes' pino level, on stderr; default error, as followers
//   far behind the clock warn that finality is not advancing).
// A 1M-account run takes about 15 minutes on 2 busy cores (build ~6, export ~3, warp well under 1, replay ~5);
// SYNC_BENCH_ACCOUNTS=100000 takes about 2.
import { rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  blsKeypairFromSeed,
  bytesToHex,
  type EcdsaSignature,
  encodeTransaction,
  type Genesis,
  keccak256,
  parseGenesis,
  type SignedTransaction,
  signHash,
  signingHash,
  type Transaction,
  type UnsignedTransaction,
} from "@rustchain/shared";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import type { SnapshotManifest } from "@rustchain/shared/snapshot/manifest";
import { type Logger, pino } from "pino";
import { type S3TestServer, startS3Server } from "../tests/support/s3Server.ts";
import { HeaderStore } from "../validator/src/chain/headerStore.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../validator/src/cli/devnetGenesis.ts";
import { CheckpointStore } from "../validator/src/db/checkpointStore.ts";
import { Bucket, Database, u64Key } from "../validator/src/db/database.ts";
import { defaultMempoolOptions } from "../validator/src/mempool/mempool.ts";
import { RustChainNode } from "../validator/src/node/node.ts";
import { defaultSnapshotExportOptions, type ExportSource, exportSnapshot } from "../validator/src/snapshot/exporter.ts";
import { createS3Store } from "../validator/src/snapshot/objectStore.ts";
import { storeSource } from "../validator/src/snapshot/sources.ts";
import { defaultWarpSyncOptions, warpSync } from "../validator/src/snapshot/warpSync.ts";
import { defaultStateDbOptions, StateDb } from "../validator/src/state/stateDb.ts";
import { type Account, freshAccounts, fundingPerSender, GWEI, MAX_FEE, TIP, TRANSFER_GAS } from "./support/accounts.ts";
import { intOpt } from "./support/cli.ts";
import { rpc, sleep } from "./support/jsonRpc.ts";
import { hardStop, installCleanup, removeTempDir, tempDir } from "./support/processes.ts";

const { values: opts } = parseArgs({
  options: {
    accounts: { type: "string", default: process.env.SYNC_BENCH_ACCOUNTS ?? "1000000" },
    senders: { type: "string" },
    "slot-ms": { type: "string", default: "1000" },
    concurrency: { type: "string", default: String(defaultWarpSyncOptions.concurrency) },
    "node-log-level": { type: "string", default: "error" },
  },
});

const ACCOUNTS = intOpt("accounts", opts.accounts, 1);
const SENDERS =
  opts.senders === undefined ? Math.min(10_000, Math.ceil(ACCOUNTS / 100)) : intOpt("senders", opts.senders, 1);
if (Math.ceil(ACCOUNTS / SENDERS) > defaultMempoolOptions.maxPerSender) {
  throw new Error(
    `--senders must be at least ${Math.ceil(ACCOUNTS / defaultMempoolOptions.maxPerSender)}: the mempool holds` +
      ` ${defaultMempoolOptions.maxPerSender} transactions per sender`,
  );
}
const SLOT_MS = intOpt("slot-ms", opts["slot-ms"], 100);
const CONCURRENCY = intOpt("concurrency", opts.concurrency, 1);
const VALUE = 1n * GWEI;
/**
 * A block must be imported well within its slot, or the slot's attestation names its parent and the block is orphaned
 * (its transfers stay pooled). The feed keeps about one block's worth pooled, adapting it to how late blocks land:
 * larger while they land before LATE_LOW of the slot, smaller when after LATE_HIGH or when slots go without a block.
 */
const FIRST_BLOCK_TXS = 2000;
const MIN_BLOCK_TXS = 250;
const LATE_LOW = 0.5;
const LATE_HIGH = 0.7;
/** Transfers per signer batch, and batches signed ahead of the feed. */
const SIGN_BATCH = 250;
const SIGN_AHEAD = 16;
/** Give up when no transfer is included for this long. */
const STALL_MS = 120_000;

const log = (msg: string) => console.log(`[sync] ${msg}`);
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const nodeLogger: Logger = pino({ level: opts["node-log-level"] }, pino.destination(2));
const silent: Logger = pino({ level: "silent" });
const validatorKey = blsKeypairFromSeed(new Uint8Array(32).fill(77)).secretKey;

// ---------------------------------------------------------------------------------------------------------------
// 1. Build the source chain

/** Recipient i: 0x5b5c…<i as 8 bytes>, none of them a sender, dev account or fee recipient. */
function recipient(i: number): Uint8Array {
  const a = new Uint8Array(20);
  a[0] = 0x5b;
  a[1] = 0x5c;
  new DataView(a.buffer).setBigUint64(12, BigInt(i));
  return a;
}

/** Transfer k of the run: from sender k / perSender (nonce k % perSender) to recipient k. */
function transferFields(chainId: bigint, k: number, perSender: number): UnsignedTransaction {
  return {
    type: 2,
    chainId,
    nonce: BigInt(k % perSender),
    maxPriorityFeePerGas: TIP,
    maxFeePerGas: MAX_FEE,
    gasLimit: TRANSFER_GAS,
    to: recipient(k),
    value: VALUE,
    data: new Uint8Array(0),
    accessList: [],
  };
}

/** What the signer worker returns for transfers from..from+raws.length-1. */
interface SignedBatch {
  from: number;
  raws: Uint8Array[];
  hashes: Uint8Array[];
  sigs: EcdsaSignature[];
}
interface SignerData {
  chainId: bigint;
  keys: Uint8Array[];
  perSender: number;
}

/** The signer worker: signs the transfers each request names (the main thread keeps producing blocks meanwhile). */
function runSigner(): void {
  const { chainId, keys, perSender } = workerData as SignerData;
  parentPort?.on("message", ({ from, to }: { from: number; to: number }) => {
    const batch: SignedBatch = { from, raws: [], hashes: [], sigs: [] };
    for (let k = from; k < to; k++) {
      const unsigned = transferFields(chainId, k, perSender);
      const sig = signHash(signingHash(unsigned), keys[Math.floor(k / perSender)]!);
      const raw = encodeTransaction({ ...unsigned, ...sig, v: BigInt(sig.yParity) });
      batch.raws.push(raw);
      batch.hashes.push(keccak256(raw));
      batch.sigs.push(sig);
    }
    parentPort?.postMessage(batch);
  });
}

/**
 * Signed transfers, in order, from a worker thread that signs a few batches ahead. The sender is known, so no
 * signature is recovered (signTransaction would, at 2.5x the cost); the replay recovers every sender from the raw
 * bytes, as block import does.
 */
function startSigner(chainId: bigint, senders: Account[], perSender: number) {
  const data: SignerData = { chainId, keys: senders.map((s) => s.key), perSender };
  const worker = new Worker(new URL(import.meta.url), { workerData: data, argv: process.argv.slice(2) });
  const ready: SignedBatch[] = [];
  let waiting: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  let failed: unknown;
  worker.on("message", (b: SignedBatch) => {
    ready.push(b);
    waiting?.resolve();
  });
  worker.on("error", (e) => {
    failed = e;
    waiting?.reject(e);
  });
  let requested = 0;
  const request = () => {
    const to = Math.min(ACCOUNTS, requested + SIGN_BATCH);
    if (to > requested) worker.postMessage({ from: requested, to });
    requested = to;
  };
  for (let i = 0; i < SIGN_AHEAD; i++) request();
  return {
    /** The next batch of signed transfers (in order: batches come back in the order they were asked for). */
    async next(): Promise<SignedTransaction[]> {
      if (failed) throw failed;
      if (ready.length === 0) await new Promise<void>((resolve, reject) => (waiting = { resolve, reject }));
      waiting = undefined;
      const b = ready.shift() as SignedBatch;
      request();
      return b.raws.map((raw, i) => {
        const k = b.from + i;
        const tx: Transaction = {
          ...transferFields(chainId, k, perSender),
          ...b.sigs[i]!,
          v: BigInt(b.sigs[i]!.yParity),
        };
        return { tx, raw, hash: b.hashes[i]!, from: senders[Math.floor(k / perSender)]!.address };
      });
    },
    stop: () => worker.terminate(),
  };
}

/**
 * The devnet genesis with one validator and the senders funded, with an elasticity of 1: no block is above the gas
 * target, so the base fee stays at its minimum however many transfers go through.
 */
function buildGenesis(senders: Account[]): Genesis {
  const json = devnetGenesis([{ secretKey: validatorKey, feeRecipient: DEVNET_FEE_RECIPIENT }], SLOT_MS);
  json.params = { ...json.params, elasticityMultiplier: 1 };
  const perSender = fundingPerSender(TRANSFER_GAS * MAX_FEE + VALUE, ACCOUNTS, senders.length);
  for (const s of senders) json.alloc[s.hex] = { balance: `0x${perSender.toString(16)}` };
  return parseGenesis(json);
}

interface Built {
  txs: number;
  /** Blocks with transfers, the slots from the first to the last of them, and the last one's number. */
  blocks: number;
  slotsSpanned: number;
  lastTxBlock: bigint;
  ms: number;
  /** Time the feed waited for the signer. */
  signerWaitMs: number;
}

/**
 * Transfer k goes from sender k / perSender (its nonce k % perSender) to recipient k, so the pool holds few senders
 * at a time; transfers are signed and added to the mempool as it has room. Returns once the pool is empty and a
 * finality certificate covers the head, with what the canonical chain holds.
 */
async function buildChain(node: RustChainNode, senders: Account[]): Promise<Built> {
  const started = performance.now();
  const chainId = node.chain.chainId;
  const perSender = Math.ceil(ACCOUNTS / senders.length);
  const maxPerBlock = Number(node.chain.head.gasLimit / TRANSFER_GAS);
  const slotStart = (slot: bigint) => Number(node.chain.genesis.timestamp) * 1000 + Number(slot) * SLOT_MS;
  let perBlock = Math.min(FIRST_BLOCK_TXS, maxPerBlock);
  let previousSlot = node.chain.head.slot;
  let lastProgress = Date.now();
  let wake: (() => void) | undefined;
  node.chain.on("block", (b) => {
    const { slot } = b.block.header;
    const missed = slot - previousSlot > 1n;
    previousSlot = slot;
    if (b.txs.length === 0) return;
    const late = (Date.now() - slotStart(slot)) / SLOT_MS;
    if (missed || late > LATE_HIGH) perBlock = Math.max(MIN_BLOCK_TXS, Math.floor(perBlock * 0.75));
    else if (late < LATE_LOW) perBlock = Math.min(maxPerBlock, Math.ceil(perBlock * 1.1));
    lastProgress = Date.now();
    wake?.();
  });
  const untilBlockOr = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  const waitForBlocks = async () => {
    if (Date.now() - lastProgress > STALL_MS) {
      throw new Error(`no transfer included for ${STALL_MS / 1000}s (head #${node.chain.head.number})`);
    }
    await untilBlockOr(SLOT_MS);
  };

  const signer = startSigner(chainId, senders, perSender);
  let waitMs = 0;
  let next = 0;
  let lastReport = Date.now();
  try {
    while (next < ACCOUNTS) {
      if (node.mempool.size >= perBlock) {
        await waitForBlocks();
        continue;
      }
      const t = performance.now();
      const batch = await signer.next();
      waitMs += performance.now() - t;
      for (const stx of batch) await node.mempool.add(stx);
      next += batch.length;
      // Let the node's slot timers run between batches.
      await new Promise((r) => setImmediate(r));
      if (Date.now() - lastReport > 20_000) {
        lastReport = Date.now();
        log(`  ${next} transfers pooled, head #${node.chain.head.number}, aiming at ${perBlock} per block`);
      }
    }
  } finally {
    await signer.stop();
  }
  while (node.mempool.size > 0) await waitForBlocks();
  // The snapshot is pinned to the latest certified block: wait for a certificate covering the head.
  const top = node.chain.head.number;
  const deadline = Date.now() + 60_000;
  while ((await rpc(node.rpc.url, "rustchain_getFinalityCertificate", [`0x${top.toString(16)}`])) === null) {
    if (Date.now() > deadline) throw new Error(`no finality certificate covers block #${top} after 60s`);
    await sleep(SLOT_MS / 2);
  }
  // What the finalized chain holds (orphaned blocks left their transfers in the pool, so each counts once here).
  let txs = 0;
  let blocks = 0;
  let lastTxBlock = 0n;
  const slots: bigint[] = [];
  for (let n = 1n; n <= top; n++) {
    const hash = await node.chain.canonicalHash(n);
    const block = hash && (await node.chain.getBlock(hash));
    if (!block) throw new Error(`the source has no block #${n}`);
    if (block.transactions.length === 0) continue;
    txs += block.transactions.length;
    blocks++;
    lastTxBlock = n;
    slots.push(block.header.slot);
  }
  if (txs !== ACCOUNTS) throw new Error(`the chain holds ${txs} transfers, ${ACCOUNTS} were sent`);
  const slotsSpanned = Number((slots.at(-1) ?? 0n) - (slots[0] ?? 0n)) + 1;
  return { txs, blocks, slotsSpanned, lastTxBlock, ms: performance.now() - started, signerWaitMs: waitMs };
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Export

/** What exportSnapshot reads, over the source's (stopped) datadir: the parts node.ts gives its SnapshotService. */
function exportSource(db: Database, genesis: Genesis, genesisHash: Uint8Array): ExportSource {
  return {
    db,
    headers: new HeaderStore(db),
    checkpoints: new CheckpointStore(db),
    genesisHash,
    chainId: genesis.params.chainId,
    canonicalHash: (n) => db.get(Bucket.canonical, u64Key(n)),
  };
}

function chunkKinds(m: SnapshotManifest): string {
  const counts = new Map<string, number>();
  for (const c of m.chunks) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}=${n}`).join(" ");
}

// ---------------------------------------------------------------------------------------------------------------

async function startNode(datadir: string, genesis: Genesis, secretKey?: Uint8Array): Promise<RustChainNode> {
  return RustChainNode.start({ datadir, genesis, secretKey, rpc: { host: "127.0.0.1", port: 0 } }, nodeLogger);
}

/** Runs `use` on the node, then stops it (also when `use` fails). */
async function withNode<T>(node: Promise<RustChainNode>, use: (n: RustChainNode) => Promise<T>): Promise<T> {
  const n = await node;
  try {
    return await use(n);
  } finally {
    await n.stop();
  }
}

// Each phase runs in its own function and keeps nothing of its nodes: the timed phases start on a heap as small as
// a fresh node's (a heap still holding the builder's state caches makes every GC, and so the warp sync, ~1.6x slower).

async function buildPhase(datadir: string, genesis: Genesis, senders: Account[]): Promise<Built> {
  return withNode(startNode(datadir, genesis, validatorKey), async (builder) => {
    const built = await buildChain(builder, senders);
    const head = builder.chain.head;
    log(
      `build: ${built.txs} transfers in ${built.blocks} blocks over ${built.slotsSpanned} slots` +
        ` (last #${built.lastTxBlock}), head #${head.number}, ${seconds(built.ms)}s` +
        ` (${(built.txs / (built.ms / 1000)).toFixed(0)} tx/s, waited ${seconds(built.signerWaitMs)}s for signatures),` +
        ` final base fee ${(head.baseFeePerGas / GWEI).toString()} gwei`,
    );
    // RustChainNode.stop() does not wait for a block being produced, and closing the database under the producer
    // crashes the process (SIGSEGV): stop the validator just after a block landed, well before the next slot's.
    await new Promise((r) => builder.chain.once("block", r));
    await sleep(SLOT_MS / 5);
    return built;
  });
}

async function exportPhase(
  datadir: string,
  genesis: Genesis,
  url: string,
  env: NodeJS.ProcessEnv,
): Promise<{ manifest: SnapshotManifest; ms: number }> {
  const db = await Database.open(`${datadir}/chaindata`);
  try {
    const genesisHash = await db.get(Bucket.canonical, u64Key(0n));
    if (!genesisHash) throw new Error("the source has no genesis");
    const t = performance.now();
    const result = await exportSnapshot(
      defaultSnapshotExportOptions,
      exportSource(db, genesis, genesisHash),
      [createS3Store(url, { env })],
      silent,
    );
    const ms = performance.now() - t;
    if (!result?.manifest) throw new Error("exportSnapshot wrote no snapshot");
    return { manifest: result.manifest, ms };
  } finally {
    await db.close();
  }
}

async function warpPhase(
  datadir: string,
  genesis: Genesis,
  url: string,
  env: NodeJS.ProcessEnv,
  snapshotNumber: bigint,
): Promise<number> {
  const db = await Database.open(`${datadir}/chaindata`);
  try {
    const t = performance.now();
    const result = await warpSync(
      { ...defaultWarpSyncOptions, concurrency: CONCURRENCY },
      {
        db,
        state: new StateDb(defaultStateDbOptions, { db }),
        genesis,
        sources: [storeSource(createS3Store(url, { env }))],
        crypto: nativeCertificateCrypto,
        logger: silent,
      },
    );
    const ms = performance.now() - t;
    if (result?.number !== snapshotNumber)
      throw new Error(`warp sync ended at ${result?.number}, not ${snapshotNumber}`);
    return ms;
  } finally {
    await db.close();
  }
}

/** Fails unless the node's head is block `number` with `stateRoot`. */
function checkHead(what: string, node: RustChainNode, number: bigint, stateRoot: Uint8Array): void {
  const head = node.chain.head;
  if (head.number !== number || bytesToHex(head.stateRoot) !== bytesToHex(stateRoot)) {
    throw new Error(
      `${what}: head #${head.number} state root ${bytesToHex(head.stateRoot)}, the source has` +
        ` ${bytesToHex(stateRoot)} at #${number}`,
    );
  }
  log(`${what}: head #${number}, state root ${bytesToHex(stateRoot)} matches the source`);
}

/** Every block 1..number of `source` imported into a fresh node, in order; returns the wall time. */
async function replayPhase(datadir: string, genesis: Genesis, source: RustChainNode, number: bigint): Promise<number> {
  return withNode(startNode(datadir, genesis), async (replay) => {
    const readBlock = async (n: bigint) => {
      const hash = await source.chain.canonicalHash(n);
      const block = hash && (await source.chain.getBlock(hash));
      if (!block) throw new Error(`the source has no block #${n}`);
      return block;
    };
    let txs = 0;
    const t = performance.now();
    let pending = readBlock(1n);
    for (let n = 1n; n <= number; n++) {
      const block = await pending;
      if (n < number) pending = readBlock(n + 1n);
      await replay.chain.importBlock(block);
      txs += block.transactions.length;
    }
    await replay.engine.updateHead();
    const ms = performance.now() - t;
    log(
      `replay: ${number} blocks, ${txs} transactions in ${seconds(ms)}s` +
        ` (${(txs / (ms / 1000)).toFixed(0)} tx/s, ${(Number(number) / (ms / 1000)).toFixed(1)} blocks/s)`,
    );
    const expected = await source.chain.getHeader((await source.chain.canonicalHash(number)) as Uint8Array);
    checkHead("replayed node", replay, number, expected?.stateRoot ?? new Uint8Array(0));
    return ms;
  });
}

async function main(): Promise<number> {
  installCleanup();
  // 1M accounts take 15-20 minutes on a busy 2-core machine; the limit scales with the count.
  hardStop(10 * 60_000 + ACCOUNTS * 2, "bench: hard time limit reached");
  const started = performance.now();
  const root = tempDir("rustchain-bench-sync-");
  const dirs = { source: join(root, "source"), warp: join(root, "warp"), replay: join(root, "replay") };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d)));
  log(`accounts=${ACCOUNTS} senders=${SENDERS} slotMs=${SLOT_MS} concurrency=${CONCURRENCY} datadirs under ${root}`);

  let server: S3TestServer | undefined;
  try {
    // 1. Build
    const senders = freshAccounts("rustchain-bench-sync-sender", SENDERS);
    const genesis = buildGenesis(senders);
    const built = await buildPhase(dirs.source, genesis, senders);

    // 2. Export
    server = await startS3Server({ buckets: ["bench"] });
    const s3Dir = server.dir;
    process.once("exit", () => rmSync(s3Dir, { recursive: true, force: true }));
    const url = "s3://bench/snapshots";
    const { manifest, ms: exportMs } = await exportPhase(dirs.source, genesis, url, server.env);
    const snapshotNumber = manifest.block.number;
    const stored = manifest.chunks.reduce((n, c) => n + c.size, 0);
    const raw = manifest.chunks.reduce((n, c) => n + c.rawSize, 0);
    log(
      `export: block #${snapshotNumber} to ${url} in ${seconds(exportMs)}s: ${manifest.chunks.length} chunks` +
        ` (${chunkKinds(manifest)}), ${mib(stored)} MiB stored, ${mib(raw)} MiB raw`,
    );
    if (snapshotNumber < built.lastTxBlock) {
      throw new Error(`the snapshot block #${snapshotNumber} is below the last transfer's block #${built.lastTxBlock}`);
    }

    // 3. Warp sync
    const warpMs = await warpPhase(dirs.warp, genesis, url, server.env, snapshotNumber);
    const perS = (x: number) => (x / (warpMs / 1000)).toFixed(2);
    log(
      `warp sync: ${seconds(warpMs)}s, ${perS(manifest.chunks.length)} chunks verified/s,` +
        ` ${perS(stored / 1024 / 1024)} MiB/s stored (${perS(raw / 1024 / 1024)} MiB/s raw)`,
    );
    await server.stop();
    server = undefined;

    // The source, reopened as a follower: the reference state root and the blocks to replay.
    const replayMs = await withNode(startNode(dirs.source, genesis), async (source) => {
      const expected = await source.chain.getHeader((await source.chain.canonicalHash(snapshotNumber)) as Uint8Array);
      if (!expected) throw new Error(`the source has no block #${snapshotNumber}`);
      await withNode(startNode(dirs.warp, genesis), async (warped) =>
        checkHead("warp-synced node", warped, snapshotNumber, expected.stateRoot),
      );
      // 4. Replay
      return replayPhase(dirs.replay, genesis, source, snapshotNumber);
    });

    const ratio = replayMs / warpMs;
    log(
      `timings: build ${seconds(built.ms)}s, export ${seconds(exportMs)}s, warp sync ${seconds(warpMs)}s,` +
        ` replay ${seconds(replayMs)}s; whole run ${seconds(performance.now() - started)}s`,
    );
    log(
      `warp sync ${seconds(warpMs)}s vs replay ${seconds(replayMs)}s: ratio ${ratio.toFixed(2)}` +
        ` (goal >= 10) for ${ACCOUNTS + SENDERS} accounts funded`,
    );
    console.log(`sync warp_s=${seconds(warpMs)} replay_s=${seconds(replayMs)} ratio=${ratio.toFixed(2)}`);
    return 0;
  } catch (e) {
    console.error(`[sync] FAILED: ${(e as Error).stack ?? e}`);
    console.log(`sync warp_s=n/a replay_s=n/a ratio=n/a`);
    return 1;
  } finally {
    await server?.stop().catch(() => undefined);
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
    removeTempDir(root);
  }
}

if (isMainThread) process.exitCode = await main();
else runSigner();
