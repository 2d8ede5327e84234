// Gap repair against a real node: a replica that starts empty, or falls behind, pulls the missing bundles from the
// node's admin address (GET /replication/head and /replication/bundles, HMAC-signed) and then answers reads byte for
// byte as the node's own JSON-RPC.
import { bytesToHex, hexToBytes, privateKeyToAddress } from "@rustchain/shared";
import { afterAll, describe, expect, it } from "vitest";
import type { SubscriptionEvent } from "../edge/src/app/contract.ts";
import { ReplicaPullError, ReplicaPuller } from "../edge/src/replica/puller.ts";
import { createReplicaReads, FORWARD, replicaFeeOptions } from "../edge/src/replica/reads.ts";
import { createReplica, defaultReplicaOptions } from "../edge/src/replica/replica.ts";
import { MemoryReplicaStore } from "../edge/src/replica/store.ts";
import { DEV_KEYS, rpc, signedTransfer } from "./support/devnet.ts";
import { startReplicatingNode, until } from "./support/replicatingNode.ts";

const KEY = new Uint8Array(32).fill(0x6b);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("pulling from a running node", () => {
  it("an empty replica catches up from the admin address and answers as the node; then it follows", async () => {
    // No pushTo: the feed only serves pulls.
    const core = await startReplicatingNode({ key: KEY, seed: 12 });
    cleanups.push(() => core.dispose());
    const { genesis, url } = core;
    const coreUrl = core.node.admin?.url as string;
    expect(coreUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const keys = DEV_KEYS.map(hexToBytes);
    const to = hexToBytes("0x00000000000000000000000000000000000c0f03");
    const send = async (key: number, nonce: bigint) => {
      const stx = signedTransfer(genesis.params.chainId, keys[key]!, nonce, to, 7000n + nonce);
      await rpc(url, "eth_sendRawTransaction", [bytesToHex(stx.raw)]);
      return bytesToHex(stx.hash);
    };
    const txHashes = [await send(3, 0n), await send(4, 0n)];
    let txBlocks: number[] = [];
    await until("transactions mined", async () => {
      const rs = await Promise.all(txHashes.map((h) => rpc(url, "eth_getTransactionReceipt", [h])));
      if (rs.some((r) => !r)) return false;
      txBlocks = rs.map((r) => Number((r as { blockNumber: string }).blockNumber));
      return true;
    });

    // Enough history that catching up takes several bounded calls.
    await until("a few blocks", async () => Number(await rpc(url, "eth_blockNumber", [])) >= 8);

    const store = new MemoryReplicaStore();
    const chainId = `0x${genesis.params.chainId.toString(16)}` as const;
    const replica = createReplica({ ...defaultReplicaOptions, chainId }, { store });
    const reads = createReplicaReads({ fees: replicaFeeOptions(genesis.params) }, { store });
    const published: SubscriptionEvent[] = [];
    // A small per-call bound, so catching up takes several calls of several requests each.
    const puller = new ReplicaPuller({
      replica,
      store,
      coreUrl,
      key: KEY,
      maxBundlesPerCall: 3,
      publish: async (events) => void published.push(...events),
    });

    // Empty replica: pull until caught up with the node's feed (bounded number of calls).
    let calls = 0;
    let last = { applied: 0, coreSeq: 0, lastSeq: 0 };
    const target = Math.max(...txBlocks);
    while (calls < 200) {
      last = await puller.catchUp();
      calls++;
      expect(last.applied).toBeLessThanOrEqual(3);
      const head = (await replica.meta()).head;
      if (last.lastSeq >= last.coreSeq && head && head.number >= target) break;
    }
    expect(calls).toBeGreaterThan(1);
    const meta = await replica.meta();
    expect(meta.head?.number).toBeGreaterThanOrEqual(target);
    expect(meta.lastSeq).toBe(last.lastSeq);
    // Every applied block was published once, in order.
    const heads = published
      .filter((e) => e.kind === "block")
      .map((e) => Number((e as { header: Record<string, unknown> }).header.number as string));
    expect(heads).toEqual(Array.from({ length: heads.length }, (_, i) => (meta.base as number) + i));

    const same = async (method: string, params: unknown[]) => {
      const mine = await reads.answer(method, params);
      expect(mine, `${method} answered from the replica`).not.toBe(FORWARD);
      expect(JSON.stringify(mine), `${method} ${JSON.stringify(params)}`).toBe(
        JSON.stringify(await rpc(url, method, params)),
      );
    };
    const head = meta.head?.number as number;
    for (let n = meta.base as number; n <= head; n++) await same("eth_getBlockByNumber", [`0x${n.toString(16)}`, true]);
    for (const n of new Set(txBlocks)) await same("eth_getBlockReceipts", [`0x${n.toString(16)}`]);
    for (const h of txHashes) {
      await same("eth_getTransactionByHash", [h]);
      await same("eth_getTransactionReceipt", [h]);
    }
    for (const a of [bytesToHex(to), ...[3, 4].map((k) => bytesToHex(privateKeyToAddress(keys[k]!)))]) {
      await same("eth_getBalance", [a, `0x${head.toString(16)}`]);
    }
    await same("eth_getLogs", [
      { fromBlock: `0x${(meta.base as number).toString(16)}`, toBlock: `0x${head.toString(16)}` },
    ]);
    await same("eth_feeHistory", [
      `0x${(head - (meta.base as number) + 1).toString(16)}`,
      `0x${head.toString(16)}`,
      [25, 75],
    ]);

    // Fall behind: the node keeps producing; one more round of pulls brings the replica level again.
    const behind = head;
    await until("the node moved on", async () => Number(await rpc(url, "eth_blockNumber", [])) >= behind + 3);
    for (let i = 0; i < 50; i++) {
      last = await puller.catchUp();
      if (last.lastSeq >= last.coreSeq && ((await replica.meta()).head?.number ?? 0) >= behind + 3) break;
    }
    const later = (await replica.meta()).head?.number as number;
    expect(later).toBeGreaterThanOrEqual(behind + 3);
    for (let n = behind + 1; n <= later; n++) await same("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);

    // The wrong key is refused by the node itself: a clear error, nothing applied.
    const before = store.snapshot();
    const forged = new ReplicaPuller({ replica, store, coreUrl, key: new Uint8Array(32).fill(1) });
    const err = await forged.catchUp().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicaPullError);
    expect((err as ReplicaPullError).type).toMatchObject({ code: "PULL_UNAUTHORIZED", status: 401 });
    expect(store.snapshot()).toEqual(before);

    // The node gone: unreachable, and the replica keeps what it has.
    await core.stop();
    const down = await puller.catchUp().catch((e: unknown) => e);
    expect((down as ReplicaPullError).type).toMatchObject({ code: "PULL_UNREACHABLE", path: "/replication/head" });
    expect((await replica.meta()).head?.number).toBe(later);
  }, 60_000);
});
