// A real validator node pushes its replication feed to an edge ingest endpoint (handleIngest over node:http); the
// replica fed this way answers reads byte for byte as the node's own JSON-RPC.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bytesToHex, hexToBytes, privateKeyToAddress } from "@rustchain/shared";
import { afterAll, describe, expect, it } from "vitest";
import { handleIngest } from "../edge/src/ingest/ingest.ts";
import { createReplicaReads, FORWARD, replicaFeeOptions } from "../edge/src/replica/reads.ts";
import { createReplica, defaultReplicaOptions, type Replica } from "../edge/src/replica/replica.ts";
import { MemoryReplicaStore } from "../edge/src/replica/store.ts";
import { DEV_KEYS, rpc, signedTransfer } from "./support/devnet.ts";
import { replicatingGenesis, startReplicatingNode, until } from "./support/replicatingNode.ts";

const KEY = new Uint8Array(32).fill(0x5a);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** node:http → Fetch Request → handleIngest → node:http, as a Node edge would mount it. */
async function serveIngest(replica: Replica, store: MemoryReplicaStore): Promise<{ url: string; statuses: number[] }> {
  const statuses: number[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers,
      body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
    });
    const response = await handleIngest(request, { replica, store, key: KEY });
    statuses.push(response.status);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, statuses };
}

describe("ingest from a running node", () => {
  it("a replica fed through handleIngest answers reads exactly as the node's JSON-RPC", async () => {
    const genesis = replicatingGenesis(11);
    const store = new MemoryReplicaStore();
    const chainId = `0x${genesis.params.chainId.toString(16)}` as const;
    const replica = createReplica({ ...defaultReplicaOptions, chainId }, { store });
    const reads = createReplicaReads({ fees: replicaFeeOptions(genesis.params) }, { store });
    const ingest = await serveIngest(replica, store);
    const core = await startReplicatingNode({ key: KEY, seed: 11, pushTo: ingest.url });
    cleanups.push(() => core.dispose());
    const { url } = core;

    const keys = DEV_KEYS.map(hexToBytes);
    const to = hexToBytes("0x00000000000000000000000000000000000c0f02");
    const send = async (key: number, nonce: bigint) => {
      const stx = signedTransfer(genesis.params.chainId, keys[key]!, nonce, to, 1000n + nonce);
      await rpc(url, "eth_sendRawTransaction", [bytesToHex(stx.raw)]);
      return bytesToHex(stx.hash);
    };
    const txHashes = [await send(1, 0n), await send(2, 0n)];
    const receipts: { blockNumber: string }[] = [];
    await until("transactions mined", async () => {
      receipts.length = 0;
      for (const h of txHashes) {
        const r = (await rpc(url, "eth_getTransactionReceipt", [h])) as { blockNumber: string } | null;
        if (!r) return false;
        receipts.push(r);
      }
      return true;
    });
    const last = Math.max(...receipts.map((r) => Number(r.blockNumber)));
    await until("the replica holds the transactions' blocks", async () => {
      // No head until the first bundle has arrived (the pusher may still be starting on a loaded machine).
      const head = (await replica.meta()).head;
      return head !== null && head !== undefined && Number(head.number) >= last;
    });

    // eth_blockNumber: the node keeps producing, so ask both until one answer lands between two blocks.
    await until("eth_blockNumber agrees", async () => {
      const mine = await reads.answer("eth_blockNumber", []);
      return mine === (await rpc(url, "eth_blockNumber", []));
    });

    const same = async (method: string, params: unknown[]) => {
      const mine = await reads.answer(method, params);
      expect(mine, `${method} answered from the replica`).not.toBe(FORWARD);
      expect(JSON.stringify(mine), method).toBe(JSON.stringify(await rpc(url, method, params)));
    };
    for (const n of new Set(receipts.map((r) => r.blockNumber))) {
      await same("eth_getBlockByNumber", [n, true]);
      await same("eth_getBlockReceipts", [n]);
    }
    for (const h of txHashes) await same("eth_getTransactionReceipt", [h]);
    // Senders and recipient do not change after their transactions, so `latest` is stable on both sides.
    for (const a of [bytesToHex(to), ...[1, 2].map((k) => bytesToHex(privateKeyToAddress(keys[k]!)))]) {
      await same("eth_getBalance", [a, "latest"]);
    }

    // Fees: the same EIP-1559 arithmetic over the replica's blocks as the core's over its own.
    await same("eth_maxPriorityFeePerGas", []);
    const { base, head } = (await replica.meta()) as { base: number; head: { number: number } };
    const lastQ = `0x${last.toString(16)}`;
    await same("eth_feeHistory", [`0x${(last - base + 1).toString(16)}`, lastQ, [0, 10, 50, 90, 100]]);
    await same("eth_feeHistory", [`0x${(head.number - base + 1).toString(16)}`, `0x${head.number.toString(16)}`, []]);
    await same("eth_feeHistory", [1, lastQ]);
    expect(
      (await reads.answer("eth_feeHistory", [`0x${(last - base + 1).toString(16)}`, lastQ, [50]])) as {
        reward: string[][];
      },
    ).toMatchObject({ reward: expect.arrayContaining([[expect.not.stringMatching(/^0x0$/)]]) });
    if (base > 0) expect(await reads.answer("eth_feeHistory", [`0x${(last + 1).toString(16)}`, lastQ])).toBe(FORWARD);
    // eth_gasPrice follows the head, which moves: ask both until one answer lands between two blocks.
    await until("eth_gasPrice agrees", async () => {
      const mine = await reads.answer("eth_gasPrice", []);
      expect(mine).not.toBe(FORWARD);
      return mine === (await rpc(url, "eth_gasPrice", []));
    });

    expect(
      ingest.statuses.every((s) => s === 200 || s === 409),
      `statuses ${[...new Set(ingest.statuses)]}`,
    ).toBe(true);

    await core.stop();
  }, 30_000);
});
