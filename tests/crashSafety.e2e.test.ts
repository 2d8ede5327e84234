// SIGKILL the node while it takes transactions, then check that what it committed is whole.
import { afterAll, describe, expect, it } from "vitest";
import {
  blake3,
  bytesToHex,
  decodeHeader,
  hexToBytes,
  MerklePatriciaTrie,
  signTransaction,
} from "../shared/src/index.ts";
import { Bucket, Database } from "../validator/src/db/database.ts";
import { DEV_KEYS, type Devnet, rpc, startDevnet } from "./support/devnet.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let devnet: Devnet | undefined;

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

describe("crash safety", () => {
  it("a SIGKILL during load leaves the last committed block whole, and production resumes", async () => {
    devnet = await startDevnet({ slotMs: 250 });
    const datadir = devnet.datadir;
    const accepted: string[] = [];
    const nonces = DEV_KEYS.map(() => 0n);
    let sending = true;
    // Bounded load: at most 60 rounds of one batch of 10 transfers (one per dev account).
    const load = (async () => {
      for (let round = 0; round < 60 && sending; round++) {
        const batch = DEV_KEYS.map((key, i) => {
          const stx = signTransaction(
            {
              type: 2,
              chainId: 21076n,
              nonce: nonces[i] as bigint,
              maxPriorityFeePerGas: 10n ** 9n,
              maxFeePerGas: 10n ** 11n,
              gasLimit: 21000n,
              to: hexToBytes("0x00000000000000000000000000000000000c0ffe"),
              value: BigInt(round + 1),
              data: new Uint8Array(0),
              accessList: [],
            },
            hexToBytes(key),
          );
          nonces[i] = (nonces[i] as bigint) + 1n;
          return { jsonrpc: "2.0", id: i, method: "eth_sendRawTransaction", params: [bytesToHex(stx.raw)] };
        });
        try {
          const res = await fetch(devnet!.url, { method: "POST", body: JSON.stringify(batch) });
          const out = (await res.json()) as { result?: string }[];
          for (const r of out) if (r.result) accepted.push(r.result);
        } catch {
          return; // the node is gone
        }
        await sleep(50);
      }
    })();
    while (accepted.length < 150) await sleep(20);
    await devnet.kill();
    sending = false;
    await load;

    // Straight from disk: the head block and everything it points to is there, and the flat view rebuilds the
    // committed state root exactly.
    const db = await Database.open(`${datadir}/chaindata`);
    const headHash = (await db.get(Bucket.meta, new TextEncoder().encode("head"))) as Uint8Array;
    const head = decodeHeader((await db.get(Bucket.headers, headHash)) as Uint8Array);
    expect(head.number).toBeGreaterThan(0n);
    expect(await db.get(Bucket.bodies, headHash)).toBeDefined();
    expect(await db.get(Bucket.receipts, headHash)).toBeDefined();
    const rebuilt = new MerklePatriciaTrie({ hash: blake3 });
    for await (const [address, account] of db.range(Bucket.flatAccounts)) await rebuilt.put(blake3(address), account);
    expect(bytesToHex(rebuilt.commit().root)).toBe(bytesToHex(head.stateRoot));
    await db.close();

    // Restart on the same data directory.
    devnet = await startDevnet({ datadir, reuse: true, slotMs: 250 });
    const headAfter = BigInt((await rpc(devnet.url, "eth_blockNumber")) as string);
    expect(headAfter).toBeGreaterThanOrEqual(head.number);
    const block = (await rpc(devnet.url, "eth_getBlockByNumber", [`0x${head.number.toString(16)}`, false])) as {
      hash: string;
      stateRoot: string;
    };
    expect(block.hash).toBe(bytesToHex(headHash));

    // Every transaction in every committed block is still there with its receipt.
    let included = 0;
    for (let n = 1n; n <= head.number; n++) {
      const b = (await rpc(devnet.url, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false])) as {
        transactions: string[];
      };
      for (const h of b.transactions) {
        const receipt = (await rpc(devnet.url, "eth_getTransactionReceipt", [h])) as {
          status: string;
          blockNumber: string;
        };
        expect(receipt.status).toBe("0x1");
        expect(BigInt(receipt.blockNumber)).toBe(n);
        included++;
      }
    }
    expect(included).toBeGreaterThan(0);
    // Every accepted transaction is known: included, or back in the pool from its journal (mempool/txJournal.ts).
    for (const h of accepted) expect(await rpc(devnet.url, "eth_getTransactionByHash", [h])).not.toBeNull();

    // Block production resumes on top of the recovered head.
    const resumed = Date.now() + 10_000;
    while (BigInt((await rpc(devnet.url, "eth_blockNumber")) as string) < headAfter + 3n) {
      expect(Date.now()).toBeLessThan(resumed);
      await sleep(100);
    }
  });
});
