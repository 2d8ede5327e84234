// Load shedding on a real in-process node: once the pool holds its busy backlog of executable transactions, JSON-RPC
// refuses new transactions, single calls and whole batches alike, with -32005 "txpool is busy: …; retry later", and
// nothing refused enters the pool. Transactions behind a nonce gap never make it busy. The node follows (no key), so
// no block drains the pool during the test.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blsKeypairFromSeed, bytesToHex, hexToBytes, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_KEYS, signedTransfer } from "../../../tests/support/devnet.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../cli/devnetGenesis.ts";
import { RustChainNode } from "./node.ts";

const dirs: string[] = [];
const nodes: RustChainNode[] = [];
afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Reply = { id: number; result?: unknown; error?: { code: number; message: string } };
async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return res.json();
}
const send = (raw: Uint8Array, id = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "eth_sendRawTransaction",
  params: [bytesToHex(raw)],
});

describe("a node whose pool is busy", () => {
  it("refuses new transactions with -32005, counting only executable ones", async () => {
    const datadir = await mkdtemp(join(tmpdir(), "rustchain-shedding-"));
    dirs.push(datadir);
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(31));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    );
    const node = await RustChainNode.start(
      { datadir, genesis, rpc: { host: "127.0.0.1", port: 0 }, mempool: { minBusyBacklog: 3, busyBacklogBlocks: 0 } },
      pino({ level: "silent" }),
    );
    nodes.push(node);
    const url = node.rpc.url;
    const chainId = genesis.params.chainId;
    const to = hexToBytes("0x00000000000000000000000000000000000b05e1");
    const transfer = (k: number, nonce: bigint) => signedTransfer(chainId, hexToBytes(DEV_KEYS[k]), nonce, to, 1n);
    const accepted = async (txs: ReturnType<typeof transfer>[]) => {
      const replies = (await post(
        url,
        txs.map((t, i) => send(t.raw, i)),
      )) as Reply[];
      expect(replies.map((r) => r.result)).toEqual(txs.map((t) => bytesToHex(t.hash)));
    };
    // Nonces 1..3 wait for nonce 0: a pool of 3 that is not busy.
    await accepted([1n, 2n, 3n].map((n) => transfer(4, n)));
    await accepted([transfer(5, 0n), transfer(5, 1n)]);
    await accepted([transfer(5, 2n)]);
    // Three executable transactions now: busy.
    const single = (await post(url, send(transfer(6, 0n).raw))) as Reply;
    expect(single.error).toEqual({
      code: -32005,
      message: "txpool is busy: 3 executable transactions pending (limit 3); retry later",
      data: { code: "TXPOOL_BUSY" },
    });
    const refused = [transfer(4, 0n), transfer(6, 0n)];
    const batch = (await post(
      url,
      refused.map((t, i) => send(t.raw, i)),
    )) as Reply[];
    expect(batch.map((r) => r.error?.code)).toEqual([-32005, -32005]);
    expect(refused.some((t) => node.mempool.has(t.hash))).toBe(false);
    expect(node.mempool.size).toBe(6);
  });
});
