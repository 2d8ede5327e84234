// The transaction journal across a SIGKILL: every transaction the node answered with a hash over JSON-RPC is still
// there after a restart (pending, or included), and the pending ones are then included. With --no-tx-journal the
// pool is volatile again.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../shared/src/index.ts";
import { DEV_KEYS, type Devnet, rpc, signedTransfer, startDevnet } from "./support/devnet.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHAIN_ID = 21076n;
const TO = hexToBytes("0x00000000000000000000000000000000000c0ffe");
const devnets: Devnet[] = [];

afterAll(async () => {
  for (const d of devnets) {
    await d.stop();
    await d.cleanup();
  }
});

/** One JSON-RPC batch of eth_sendRawTransaction; the hashes the node answered with (throws on any error). */
async function sendBatch(url: string, txs: { raw: Uint8Array }[]): Promise<string[]> {
  const body = txs.map((t, id) => ({
    jsonrpc: "2.0",
    id,
    method: "eth_sendRawTransaction",
    params: [bytesToHex(t.raw)],
  }));
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const out = (await res.json()) as { id: number; result?: string; error?: { message: string } }[];
  const errors = out.filter((r) => r.error).map((r) => r.error?.message);
  expect(errors).toEqual([]);
  return out.sort((a, b) => a.id - b.id).map((r) => r.result as string);
}

type RpcTx = { hash: string; blockNumber: string | null } | null;
const txByHash = (url: string, h: string) => rpc(url, "eth_getTransactionByHash", [h]) as Promise<RpcTx>;

describe("transaction journal", () => {
  it("a SIGKILL right after eth_sendRawTransaction answers loses no transaction; they are pending again, then included", async () => {
    let devnet = await startDevnet({ slotMs: 250 });
    devnets.push(devnet);
    const key = (i: number) => hexToBytes(DEV_KEYS[i] as string);
    // Accounts 0 and 1: nonces 1-50 with nonce 0 missing, so they wait in the pool until the gap is filled.
    const gapped = [0, 1].flatMap((a) =>
      Array.from({ length: 50 }, (_, n) => signedTransfer(CHAIN_ID, key(a), BigInt(n + 1), TO, 1n)),
    );
    // Accounts 2-9: executable transfers, accepted in the last batch before the crash.
    const ready = [2, 3, 4, 5, 6, 7, 8, 9].flatMap((a) =>
      Array.from({ length: 12 }, (_, n) => signedTransfer(CHAIN_ID, key(a), BigInt(n), TO, 1n)),
    );
    const gappedHashes = await sendBatch(devnet.url, gapped);
    const readyHashes = await sendBatch(devnet.url, ready);
    await devnet.kill();
    expect(gappedHashes).toEqual(gapped.map((t) => bytesToHex(t.hash)));
    expect(readyHashes).toEqual(ready.map((t) => bytesToHex(t.hash)));

    devnet = await startDevnet({ datadir: devnet.datadir, reuse: true, slotMs: 250 });
    devnets.push(devnet);
    expect(devnet.output()).toContain("Transaction journal replayed");
    // Every answered transaction is known: the gapped ones pending, the others pending or already included.
    for (const h of gappedHashes) expect(await txByHash(devnet.url, h)).toMatchObject({ hash: h, blockNumber: null });
    for (const h of readyHashes) expect(await txByHash(devnet.url, h)).toMatchObject({ hash: h });
    // A second crash, now with nothing new: the rewritten journal replays the same pool.
    await devnet.kill();
    devnet = await startDevnet({ datadir: devnet.datadir, reuse: true, slotMs: 250 });
    devnets.push(devnet);
    for (const h of gappedHashes) expect(await txByHash(devnet.url, h)).toMatchObject({ hash: h, blockNumber: null });

    // Filling the gap makes them executable: all of them are included, with successful receipts.
    await sendBatch(devnet.url, [
      signedTransfer(CHAIN_ID, key(0), 0n, TO, 1n),
      signedTransfer(CHAIN_ID, key(1), 0n, TO, 1n),
    ]);
    const deadline = Date.now() + 30_000;
    for (const h of [...gappedHashes, ...readyHashes]) {
      for (;;) {
        const receipt = (await rpc(devnet.url, "eth_getTransactionReceipt", [h])) as { status: string } | null;
        if (receipt) {
          expect(receipt.status).toBe("0x1");
          break;
        }
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(100);
      }
    }
    expect(await rpc(devnet.url, "eth_getTransactionCount", [bytesToHex(gapped[0]!.from), "latest"])).toBe("0x33");
  });

  it("with --no-tx-journal, pending transactions are lost on a crash and no journal is written", async () => {
    let devnet = await startDevnet({ slotMs: 250, extraArgs: ["--no-tx-journal"] });
    devnets.push(devnet);
    const [hash] = await sendBatch(devnet.url, [
      signedTransfer(CHAIN_ID, hexToBytes(DEV_KEYS[0] as string), 5n, TO, 1n),
    ]);
    await devnet.kill();
    expect(existsSync(join(devnet.datadir, "txpool.journal"))).toBe(false);
    devnet = await startDevnet({ datadir: devnet.datadir, reuse: true, slotMs: 250, extraArgs: ["--no-tx-journal"] });
    devnets.push(devnet);
    expect(await txByHash(devnet.url, hash as string)).toBeNull();
  });
});
