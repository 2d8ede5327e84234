// Warp sync and snap sync against a live 4-validator devnet (real processes, libp2p on loopback, s3rver as S3).
// The chain holds 100,000 funded accounts and an ERC-20 contract's storage; validator 0 exports snapshots to S3 and
// to its datadir, validator 1 to its datadir only (both serve theirs to peers). Fresh nodes then join:
//   - from S3 (--warp-sync): same state root, follows the live head, answers eth_getBalance / eth_getStorageAt /
//     eth_getProof / eth_call exactly as validator 0 does;
//   - killed (SIGKILL) mid-download and started again: resumes without fetching verified chunks again;
//   - from peers alone (--sync-mode snap): same root, follows the head.

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createPublicClient, createWalletClient, encodeFunctionData, erc20Abi, type Hex, http, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContracts } from "../contracts/build.ts";
import { RegistryField, registrySlot } from "../validator/src/chain/validatorRegistry.ts";
import { createS3Store } from "../validator/src/snapshot/objectStore.ts";
import { listSnapshotIds } from "../validator/src/snapshot/sources.ts";
import { type Cluster, type Follower, startCluster, waitUntil } from "./support/cluster.ts";
import { DEV_KEYS, devnetChain } from "./support/devnet.ts";
import { type S3TestServer, startS3Server } from "./support/s3Server.ts";

const ACCOUNTS = 100_000;
const BUCKET = "snapshots";
const S3_URL = `s3://${BUCKET}/devnet`;
const REGISTRY = "0x0000000000000000000000000000000000000100";

// Validator 0 also uploads to S3, so on a loaded machine it may skip a multiple that validator 1 exports; keeping
// several snapshots makes sure the two always share one for the snap-sync test.
const SNAPSHOT_ARGS = ["--snapshot-every", "16", "--snapshot-chunk-bytes", "262144", "--snapshot-keep", "6"];

let s3: S3TestServer;
let cluster: Cluster;
let token: Hex;
const holders: Hex[] = [];
const sampled: string[] = [];
const savedEnv = { ...process.env };
/** Validator 3 restarts with --warp-sync (the last test wipes its chain data). */
let rejoinByWarpSync = false;

const hexNum = (v: unknown) => Number(BigInt(v as string));

function accountAddress(i: number): string {
  return `0x${(0xa0000000 + i * 104729).toString(16).padStart(40, "0")}`;
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  // The node processes read S3 settings the way AWS tools do, from the environment they inherit.
  Object.assign(process.env, s3.env);
  const extraAlloc: Record<string, { balance: string }> = {};
  for (let i = 0; i < ACCOUNTS; i++)
    extraAlloc[accountAddress(i)] = { balance: `0x${(10n ** 15n + BigInt(i)).toString(16)}` };
  for (let i = 0; i < ACCOUNTS; i += 9973) sampled.push(accountAddress(i));
  cluster = await startCluster({
    validators: 4,
    slotMs: 500,
    extraAlloc,
    waitForPeers: "connected",
    extraArgs: (i) =>
      i === 3 && rejoinByWarpSync
        ? ["--warp-sync", S3_URL]
        : i === 0
          ? // Validator 0 is the old node the followers' answers at their snapshot block are compared with: an archive
            // node, since a full node keeps only 128 finalized blocks of state (64 s at these 500 ms slots).
            [...SNAPSHOT_ARGS, "--snapshot-to", S3_URL, "--archive"]
          : i === 1
            ? SNAPSHOT_ARGS
            : [],
  });

  // Contract storage: an ERC-20 with balances spread over a few holders.
  const built = await buildContracts();
  const erc20 = built.erc20 as unknown as { abi: unknown[]; bytecode: Hex };
  const deployer = privateKeyToAccount(DEV_KEYS[0] as Hex);
  const transport = http(cluster.nodes[0]?.rpcUrl);
  const client = createPublicClient({ chain: devnetChain, transport });
  const wallet = createWalletClient({ account: deployer, chain: devnetChain, transport });
  const deploy = await wallet.deployContract({
    abi: erc20.abi,
    bytecode: erc20.bytecode,
    args: ["Snap Token", "SNAP", 18, parseEther("1000000")],
  });
  token = (await client.waitForTransactionReceipt({ hash: deploy, pollingInterval: 100 })).contractAddress as Hex;
  let last: Hex | undefined;
  for (let i = 0; i < 12; i++) {
    const to = accountAddress(i * 7) as Hex;
    holders.push(to);
    last = await wallet.sendTransaction({
      to: token,
      data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, parseEther(String(i + 1))] }),
    });
  }
  const receipt = await client.waitForTransactionReceipt({ hash: last as Hex, pollingInterval: 100 });
  // A snapshot in S3 that holds the transfers.
  const store = createS3Store(S3_URL, { env: s3.env });
  await waitUntil(
    "a snapshot in S3 after the token transfers",
    async () => {
      const ids = await listSnapshotIds(store);
      const newest = ids.at(-1);
      return newest && BigInt(newest.slice(0, 12)) > receipt.blockNumber ? newest : undefined;
    },
    90_000,
  );
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await s3?.stop();
  process.env = savedEnv;
});

async function call(f: Follower | number, method: string, params: unknown[]): Promise<unknown> {
  return typeof f === "number" ? cluster.rpc(f, method, params) : f.rpc(method, params);
}

/** The follower is past `beyond` and holds validator 0's block at its head number: it follows the live chain. */
async function followsHead(f: Follower, beyond: number): Promise<number> {
  return waitUntil(
    `${f.name} to follow the head past block ${beyond}`,
    async () => {
      const n = hexNum(await f.rpc("eth_blockNumber"));
      if (n <= beyond + 3) return undefined;
      const [mine, theirs] = await Promise.all([
        f.rpc("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]) as Promise<{ hash: string; stateRoot: string }>,
        cluster.rpc(0, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false]) as Promise<{
          hash: string;
          stateRoot: string;
        } | null>,
      ]);
      return theirs && mine.hash === theirs.hash && mine.stateRoot === theirs.stateRoot ? n : undefined;
    },
    90_000,
  );
}

/** The same answers as validator 0 at `block` for balances, storage, proofs and a contract call. */
async function sameAnswers(f: Follower, block: number): Promise<void> {
  const tag = `0x${block.toString(16)}`;
  const checks: [string, unknown[]][] = [
    ...sampled.map((a) => ["eth_getBalance", [a, tag]] as [string, unknown[]]),
    ...[0, 1, 2, 3].map(
      (i) =>
        [
          "eth_getStorageAt",
          [REGISTRY, `0x${Buffer.from(registrySlot(i, RegistryField.stake)).toString("hex")}`, tag],
        ] as [string, unknown[]],
    ),
    ["eth_getProof", [REGISTRY, [`0x${Buffer.from(registrySlot(0, RegistryField.stake)).toString("hex")}`], tag]],
    ["eth_getProof", [token, [], tag]],
    ["eth_getProof", [sampled[3], [], tag]],
    ...holders.map(
      (h) =>
        [
          "eth_call",
          [{ to: token, data: encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [h] }) }, tag],
        ] as [string, unknown[]],
    ),
  ];
  for (const [method, params] of checks) {
    const [mine, theirs] = await Promise.all([call(f, method, params), call(0, method, params)]);
    expect(mine, `${method} ${JSON.stringify(params)}`).toEqual(theirs);
  }
  // The token's storage is not empty (its storage root is not the empty trie's).
  const proof = (await f.rpc("eth_getProof", [token, [], tag])) as { storageHash: string };
  expect(proof.storageHash).not.toBe(
    ((await f.rpc("eth_getProof", [sampled[0], [], tag])) as { storageHash: string }).storageHash,
  );
}

function logValue(f: Follower, msg: string): Record<string, unknown> | undefined {
  const line = f.logs.grep(`"msg":"${msg}"`).at(-1);
  return line ? (JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>) : undefined;
}

describe("a new node joins a live devnet from a snapshot", () => {
  it("warp-syncs from S3, reaches the same state, follows the head and answers as an old node does", async () => {
    const f = await cluster.startFollower("warp", ["--warp-sync", S3_URL]);
    const finished = logValue(f, "Warp sync finished");
    expect(finished, f.logs.tail(40).join("\n")).toBeDefined();
    const snapshotBlock = Number(finished?.number);
    expect(snapshotBlock).toBeGreaterThan(0);
    await sameAnswers(f, snapshotBlock);
    const later = await followsHead(f, snapshotBlock);
    await sameAnswers(f, later);
    // History before the snapshot: a clear error naming the first available block.
    const old = await fetch(f.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBlockByNumber", params: ["0x1", false] }),
    }).then((r) => r.json() as Promise<{ error?: { code: number; message: string } }>);
    expect(old.error?.code).toBe(4444);
    expect(old.error?.message).toContain(`first available block is ${snapshotBlock + 1}`);
    await f.stop();
  }, 180_000);

  it("killed mid-download, resumes without fetching verified chunks again and comes out right", async () => {
    const args = ["--warp-sync", S3_URL, "--warp-sync-concurrency", "1", "--log-level", "debug"];
    const first = await cluster.startFollower("resume", args, { waitForRpc: false });
    await waitUntil(
      "a first verified chunk",
      async () => first.logs.grep('"msg":"Chunk verified"').length > 2 || undefined,
      90_000,
    );
    first.proc.kill("SIGKILL");
    await first.stop();
    const verifiedBeforeKill = first.logs.grep('"msg":"Chunk verified"').length;
    expect(first.logs.grep('"msg":"Warp sync finished"')).toHaveLength(0);

    const second = await cluster.startFollower("resume", args);
    const resumed = logValue(second, "Resuming warp sync");
    expect(resumed, second.logs.tail(40).join("\n")).toBeDefined();
    const finished = logValue(second, "Warp sync finished") as { resumed: number; downloaded: number; number: number };
    // Chunks verified before the kill (each committed with its marker) were not fetched again.
    expect(finished.resumed).toBeGreaterThanOrEqual(verifiedBeforeKill);
    const fetchedAgain = second.logs.grep('"msg":"Chunk verified"').length;
    expect(fetchedAgain + finished.resumed).toBe(Number(resumed?.chunks));
    await sameAnswers(second, Number(finished.number));
    await followsHead(second, Number(finished.number));
    await second.stop();
  }, 180_000);

  it("snap-syncs from peers alone (no S3) to the same root and follows the head", async () => {
    const f = await cluster.startFollower("snap", ["--sync-mode", "snap"]);
    const started = logValue(f, "Warp sync started") as { sources: string[] };
    const why = f.logs.grep('"module":"warp-sync"').slice(0, 20).join("\n");
    expect(
      started.sources.every((s) => s.startsWith("peer:")),
      why,
    ).toBe(true);
    expect(started.sources.length, why).toBeGreaterThanOrEqual(2);
    const finished = logValue(f, "Warp sync finished");
    const snapshotBlock = Number(finished?.number);
    await sameAnswers(f, snapshotBlock);
    await followsHead(f, snapshotBlock);
    await f.stop();
  }, 180_000);

  it("a validator that lost its chain data rejoins by warp sync, then attests and proposes again", async () => {
    const v3 = cluster.nodes[3]!;
    await cluster.kill(3);
    // The chain data is gone; the keystore, p2p key and slashing protection are not.
    await rm(join(v3.datadir, "chaindata"), { recursive: true, force: true });
    rejoinByWarpSync = true;
    const mark = v3.logs.mark();
    await cluster.restart(3);
    const finished = v3.logs.since(mark).find((l) => l.includes('"msg":"Warp sync finished"'));
    expect(finished, cluster.dumpLogs(3, 40)).toBeDefined();
    const from = JSON.parse(finished!.slice(finished!.indexOf("{"))).number as number;
    // It proposes again: a block after the snapshot with its fee recipient as coinbase, on every node's chain.
    const feeRecipient = String(cluster.genesis.validators[3]?.feeRecipient).toLowerCase();
    const proposed = await waitUntil(
      "a block proposed by the rejoined validator",
      async () => {
        const head = hexNum(await cluster.rpc(0, "eth_blockNumber"));
        for (let n = head; n > from; n--) {
          const b = (await cluster.rpc(0, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false])) as { miner: string };
          if (b.miner.toLowerCase() === feeRecipient) return n;
        }
        return undefined;
      },
      120_000,
    );
    expect(proposed).toBeGreaterThan(from);
    // And finality goes on with it: a block after its proposal becomes final on validator 3 and on validator 0.
    await waitUntil(
      "finality past the rejoined validator's block",
      async () => {
        const [a, b] = await Promise.all([cluster.finality(0), cluster.finality(3)]);
        return a.finalized.number > proposed && b.finalized.number > proposed ? true : undefined;
      },
      60_000,
    );
  }, 240_000);
});
