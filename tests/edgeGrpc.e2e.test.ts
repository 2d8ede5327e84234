// The Node-hosted edge fed by the core's gRPC replication stream (docs/grpc.md), against a real node and a real
// redis-server: no push and no admin pulls, only StreamReplicationBundles. The edge's replica follows the feed seq by
// seq, serves the core's blocks and receipts byte for byte, tells WebSocket subscribers about new heads, and a new
// edge instance on the same Redis resumes the stream where the replica stopped, with no gap. A wrong key is refused.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { LocalRedis } from "../edge/src/node/redisServer.ts";
import { type NodeEdge, startNodeEdge } from "../edge/src/node/server.ts";
import { startTestRedis } from "../edge/src/node/testing.ts";
import { DEV_KEYS, rpc, signedTransfer } from "./support/devnet.ts";
import { type ReplicatingNode, startReplicatingNode, until } from "./support/replicatingNode.ts";

const KEY = new Uint8Array(32).fill(0x3c);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface EdgeHealth {
  ok: boolean;
  seq: number;
  head: { number: string; hash: string } | null;
}

const health = async (edge: NodeEdge) => (await (await fetch(`${edge.url}/health`)).json()) as EdgeHealth;

function startEdge(core: ReplicatingNode, redis: LocalRedis, key = KEY): Promise<NodeEdge> {
  return startNodeEdge({
    listen: { host: "127.0.0.1", port: 0 },
    redisUrl: redis.url,
    coreRpcUrl: core.url,
    coreGrpcAddr: core.node.grpcAddress,
    replicationKey: key,
    chainId: core.genesis.params.chainId,
  });
}

describe("a Node edge fed by the gRPC replication stream", () => {
  it("follows the feed, serves the core's blocks and receipts, notifies newHeads, and resumes with no gap", async () => {
    const redis = await startTestRedis();
    cleanups.push(() => redis.stop());
    const core = await startReplicatingNode({ key: KEY, seed: 23, grpc: true });
    cleanups.push(() => core.dispose());
    expect(core.node.grpcAddress).toMatch(/^127\.0\.0\.1:\d+$/);

    let edge = await startEdge(core, redis);
    cleanups.push(() => edge.close());
    const ws = new WebSocket(edge.wsUrl);
    cleanups.push(async () => ws.close());
    await new Promise((r) => ws.once("open", r));
    const heads: string[] = [];
    ws.on("message", (d) => {
      const m = JSON.parse(String(d)) as { params?: { result?: { number: string } } };
      if (m.params?.result?.number) heads.push(m.params.result.number);
    });
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));

    const to = hexToBytes("0x00000000000000000000000000000000000a0b0c");
    const stx = signedTransfer(core.genesis.params.chainId, hexToBytes(DEV_KEYS[5]), 0n, to, 4242n);
    await rpc(core.url, "eth_sendRawTransaction", [bytesToHex(stx.raw)]);
    let receipt: { blockNumber: string } | undefined;
    await until("the transfer mined", async () => {
      receipt = (await rpc(core.url, "eth_getTransactionReceipt", [bytesToHex(stx.hash)])) as typeof receipt;
      return !!receipt;
    });
    const minedAt = Number(receipt!.blockNumber);

    // The replica (not a forwarded call) holds the block: its head and seq, as /health reads them from Redis.
    await until("the replica past the transfer's block", async () => {
      const h = await health(edge);
      return !!h.head && Number(h.head.number) >= minedAt + 2;
    });
    for (let n = 1; n <= minedAt + 2; n++) {
      const tag = `0x${n.toString(16)}`;
      expect(await rpc(edge.url, "eth_getBlockByNumber", [tag, true])).toEqual(
        await rpc(core.url, "eth_getBlockByNumber", [tag, true]),
      );
    }
    expect(await rpc(edge.url, "eth_getTransactionReceipt", [bytesToHex(stx.hash)])).toEqual(receipt);
    await until("three newHeads notifications", async () => heads.length >= 3);
    for (let i = 1; i < heads.length; i++) expect(Number(heads[i])).toBe(Number(heads[i - 1]) + 1);

    // Stop this instance; the core moves on; a new instance on the same Redis resumes from the replica's seq.
    const before = await health(edge);
    await edge.close();
    const coreHead = Number(await rpc(core.url, "eth_blockNumber", []));
    await until("the core to move on", async () => Number(await rpc(core.url, "eth_blockNumber", [])) >= coreHead + 4);
    edge = await startEdge(core, redis);
    await until("the new instance to catch up", async () => {
      const h = await health(edge);
      return !!h.head && Number(h.head.number) >= coreHead + 4;
    });
    const after = await health(edge);
    // Bundles apply only in seq order, so a higher seq means every bundle in between was applied.
    expect(after.seq).toBeGreaterThan(before.seq);
    expect(after.seq).toBe((await core.node.replication!.feed.range(after.seq, 1))![0]!.seq);
    for (let n = Number(before.head!.number); n <= coreHead + 4; n++) {
      const tag = `0x${n.toString(16)}`;
      expect(await rpc(edge.url, "eth_getBlockByNumber", [tag, false])).toEqual(
        await rpc(core.url, "eth_getBlockByNumber", [tag, false]),
      );
    }

    // An instance with the wrong key is refused by the core and applies nothing.
    const stranger = await startNodeEdge({
      listen: { host: "127.0.0.1", port: 0 },
      // Another Redis database: its own replica and event stream.
      redisUrl: `${redis.url}/1`,
      coreRpcUrl: core.url,
      coreGrpcAddr: core.node.grpcAddress,
      replicationKey: new Uint8Array(32).fill(1),
      chainId: core.genesis.params.chainId,
    });
    cleanups.push(() => stranger.close());
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await health(stranger)).seq).toBe(0);
  }, 90_000);
});
