// Load shedding on a real in-process node: once the pool holds its busy backlog, JSON-RPC refuses new transactions,
// single calls and whole batches alike, with -32005 "txpool is busy: …; retry later" and takes them once it drains.
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
  it("refuses new transactions with -32005 until the backlog drains", async () => {
    const datadir = await mkdtemp(join(tmpdir(), "rustchain-shedding-"));
    dirs.push(datadir);
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(31));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 250),
    );
    const node = await RustChainNode.start(
      {
        datadir,
        genesis,
        secretKey: validator.secretKey,
        rpc: { host: "127.0.0.1", port: 0 },
        mempool: { minBusyBacklog: 3, busyBacklogBlocks: 0 },
      },
      pino({ level: "silent" }),
    );
    nodes.push(node);
    const url = node.rpc.url;
    const chainId = genesis.params.chainId;
    const key = hexToBytes(DEV_KEYS[4]);
    const to = hexToBytes("0x00000000000000000000000000000000000b05e1");
    // Nonces 1..3 wait for nonce 0 (a gap): no block drains them, so the pool stays at its limit of 3.
    const queued = [1n, 2n, 3n].map((n) => signedTransfer(chainId, key, n, to, 1n));
    const batch1 = (await post(
      url,
      queued.map((t, i) => send(t.raw, i)),
    )) as Reply[];
    expect(batch1.map((r) => r.result)).toEqual(queued.map((t) => bytesToHex(t.hash)));

    const first = signedTransfer(chainId, key, 0n, to, 1n);
    const single = (await post(url, send(first.raw))) as Reply;
    expect(single.error?.code).toBe(-32005);
    expect(single.error?.message).toBe("txpool is busy: 3 transactions pending (limit 3); retry later");
    const other = signedTransfer(chainId, hexToBytes(DEV_KEYS[5]), 0n, to, 1n);
    const batch2 = (await post(url, [send(first.raw, 1), send(other.raw, 2)])) as Reply[];
    expect(batch2.map((r) => r.error?.code)).toEqual([-32005, -32005]);
    // Nothing of the refused calls reached the pool.
    expect(node.mempool.has(first.hash) || node.mempool.has(other.hash)).toBe(false);

    // The pool drains (the gap filled by hand, as a wallet retrying would once the pool has room) and accepts again.
    await node.mempool.add(first);
    for (let i = 0; i < 100 && node.mempool.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(node.mempool.size).toBe(0);
    const again = (await post(url, send(other.raw))) as Reply;
    expect(again.result).toBe(bytesToHex(other.hash));
  });
});
