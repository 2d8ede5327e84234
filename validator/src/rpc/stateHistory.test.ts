// Historical state over JSON-RPC on a real in-process node: a full node (state history 2) that has pruned answers
// every head query (latest, pending, safe, finalized, the head by number, eth_getProof at the head) and every block in
// its window, still serves pruned blocks' bodies and receipts, and refuses state reads at a pruned block with the
// documented error: -32000 "historical state unavailable: this node keeps state for the last 2 finalized blocks
// (block X is pruned, the oldest kept is Y); query an archive node (--archive)" with data.firstAvailableBlock. An
// archive node (--archive) answers the same old block.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  blake3,
  blsKeypairFromSeed,
  bytesToHex,
  hexToBytes,
  parseGenesis,
  privateKeyToAddress,
  verifyTrieProof,
} from "@rustchain/shared";
import { decodeAccount } from "@rustchain/shared/account";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_KEYS, signedTransfer } from "../../../tests/support/devnet.ts";
import type { StatePrunerOptions } from "../chain/statePruner.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { RustChainNode } from "../node/node.ts";

const dirs: string[] = [];
const nodes: RustChainNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Reply = { result?: unknown; error?: { code: number; message: string; data?: { firstAvailableBlock?: string } } };

async function call(url: string, method: string, params: unknown[]): Promise<Reply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await res.json()) as Reply;
}

async function ok(url: string, method: string, params: unknown[]): Promise<unknown> {
  const r = await call(url, method, params);
  if (r.error) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
  return r.result;
}

const quantity = (n: bigint) => `0x${n.toString(16)}`;
const RECIPIENT = hexToBytes("0x00000000000000000000000000000000000c0ffe");
const KEY = hexToBytes(DEV_KEYS[3]);
const FROM = bytesToHex(privateKeyToAddress(KEY));

/** A one-validator node (250 ms slots) with these pruning options; two transfers to RECIPIENT, at blocks b1 < b2. */
async function nodeWithHistory(seed: number, pruning: Partial<StatePrunerOptions>) {
  const datadir = await mkdtemp(join(tmpdir(), "rustchain-state-history-"));
  dirs.push(datadir);
  const validator = blsKeypairFromSeed(new Uint8Array(32).fill(seed));
  const genesis = parseGenesis(
    devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
  );
  const node = await RustChainNode.start(
    {
      datadir,
      genesis,
      secretKey: validator.secretKey,
      rpc: { host: "127.0.0.1", port: 0 },
      pruning: { pollMs: 100, minWrittenNodes: 0, ...pruning },
    },
    pino({ level: "silent" }),
  );
  nodes.push(node);
  const url = node.rpc.url;
  const blocks: bigint[] = [];
  for (const [nonce, value] of [100n, 200n].entries()) {
    const stx = signedTransfer(genesis.params.chainId, KEY, BigInt(nonce), RECIPIENT, value);
    await ok(url, "eth_sendRawTransaction", [bytesToHex(stx.raw)]);
    for (;;) {
      const r = (await ok(url, "eth_getTransactionReceipt", [bytesToHex(stx.hash)])) as { blockNumber: string } | null;
      if (r) {
        blocks.push(BigInt(r.blockNumber));
        break;
      }
      await sleep(50);
    }
  }
  const [b1, b2] = blocks as [bigint, bigint];
  // Until finality is well past b2 (a full node's window has moved past it), then a run prunes below the window.
  for (let i = 0; i < 400 && node.consensus.finalizedNumber <= b2 + 4n; i++) await sleep(50);
  for (let i = 0; i < 400 && !pruning.archive && node.pruner.firstAvailableBlock() <= b2; i++) await sleep(50);
  await node.pruner.runOnce();
  return { node, url, b1, b2 };
}

describe("historical state over JSON-RPC", () => {
  it("a pruned full node answers every head query and refuses pruned history with the documented error", async () => {
    const { node, url, b1, b2 } = await nodeWithHistory(41, { history: 2 });
    expect(node.pruner.firstAvailableBlock()).toBeGreaterThan(b2);
    const address = bytesToHex(RECIPIENT);

    // Head queries, every way of naming the head or a block of the window.
    for (const tag of ["latest", "pending", "safe", "finalized"]) {
      expect(await ok(url, "eth_getBalance", [address, tag]), tag).toBe(quantity(300n));
    }
    const head = BigInt((await ok(url, "eth_blockNumber", [])) as string);
    expect(await ok(url, "eth_getBalance", [address, quantity(head)])).toBe(quantity(300n));
    const first = node.pruner.firstAvailableBlock();
    expect(await ok(url, "eth_getBalance", [address, quantity(first)])).toBe(quantity(300n));
    const firstHash = ((await ok(url, "eth_getBlockByNumber", [quantity(first), false])) as { hash: string }).hash;
    expect(await ok(url, "eth_getBalance", [address, { blockHash: firstHash }])).toBe(quantity(300n));
    const sender = bytesToHex(hexToBytes(`0x${"00".repeat(20)}`));
    expect(await ok(url, "eth_getTransactionCount", [sender, "latest"])).toBe("0x0");
    expect(await ok(url, "eth_getCode", [address, "latest"])).toBe("0x");
    expect(await ok(url, "eth_getStorageAt", [address, "0x0", "latest"])).toBe(`0x${"00".repeat(32)}`);
    expect(await ok(url, "eth_call", [{ to: address, data: "0x" }, "latest"])).toBe("0x");
    expect(await ok(url, "eth_estimateGas", [{ from: FROM, to: address, value: "0x1" }, "latest"])).toBe(
      quantity(21_000n),
    );
    const headBlock = (await ok(url, "eth_getBlockByNumber", ["latest", false])) as {
      number: string;
      stateRoot: string;
    };
    const proof = (await ok(url, "eth_getProof", [address, [], headBlock.number])) as { accountProof: string[] };
    const proven = await verifyTrieProof(
      blake3,
      hexToBytes(headBlock.stateRoot),
      blake3(RECIPIENT),
      proof.accountProof.map((p) => hexToBytes(p)),
    );
    expect(decodeAccount(proven as Uint8Array).balance).toBe(300n);

    // History (bodies, receipts) of pruned blocks is still served: only their state is gone.
    const old = (await ok(url, "eth_getBlockByNumber", [quantity(b1), true])) as { hash: string; transactions: [] };
    expect(old.transactions).toHaveLength(1);
    expect(await ok(url, "eth_getBlockReceipts", [quantity(b1)])).toHaveLength(1);

    // State reads at pruned blocks: by number and by hash, every method.
    const reads: [string, unknown[]][] = [
      ["eth_getBalance", [address, quantity(b1)]],
      ["eth_getBalance", [address, { blockHash: old.hash }]],
      ["eth_getTransactionCount", [address, quantity(b2)]],
      ["eth_getCode", [address, quantity(b1)]],
      ["eth_getStorageAt", [address, "0x0", quantity(b1)]],
      ["eth_call", [{ to: address, data: "0x" }, quantity(b1)]],
      ["eth_estimateGas", [{ from: FROM, to: address, value: "0x1" }, quantity(b1)]],
      ["eth_getProof", [address, [`0x${"00".repeat(32)}`], quantity(b2)]],
      ["eth_getBalance", [address, "earliest"]],
    ];
    for (const [method, params] of reads) {
      const r = await call(url, method, params);
      expect(r.error?.code, method).toBe(-32000);
      const n = method === "eth_getBalance" && params[1] === "earliest" ? 0n : method.match(/Count|Proof/) ? b2 : b1;
      const firstAvailable = BigInt(r.error?.data?.firstAvailableBlock ?? "-1");
      expect(firstAvailable).toBeGreaterThan(b2);
      expect(r.error?.message, method).toBe(
        `historical state unavailable: this node keeps state for the last 2 finalized blocks (block ${n} is pruned, ` +
          `the oldest kept is ${firstAvailable}); query an archive node (--archive)`,
      );
    }
  });

  it("an archive node answers the state of every block", async () => {
    const { node, url, b1, b2 } = await nodeWithHistory(42, { archive: true });
    expect(node.pruner.firstAvailableBlock()).toBe(0n);
    const address = bytesToHex(RECIPIENT);
    expect(await ok(url, "eth_getBalance", [address, quantity(b1)])).toBe(quantity(100n));
    expect(await ok(url, "eth_getBalance", [address, quantity(b2)])).toBe(quantity(300n));
    expect(await ok(url, "eth_getBalance", [address, quantity(b1 - 1n)])).toBe("0x0");
    expect(await ok(url, "eth_getBalance", [address, "latest"])).toBe(quantity(300n));
  });
});
