// Blocks with contract transactions, re-executed on a fresh node through the import path, give the same state
// roots, gas used and receipts.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createPublicClient, createWalletClient, erc20Abi, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import { buildContracts } from "../contracts/build.ts";
import { bytesToHex, encodeReceipt, parseGenesis } from "../shared/src/index.ts";
import { Chain } from "../validator/src/chain/chain.ts";
import { Database } from "../validator/src/db/database.ts";
import { createInlineRecovery } from "../validator/src/execution/senderRecovery.ts";
import { ContractRuntime } from "../validator/src/runtime/contractRuntime.ts";
import { defaultStateDbOptions, StateDb } from "../validator/src/state/stateDb.ts";
import { DEV_KEYS, type Devnet, devnetChain, startDevnet } from "./support/devnet.ts";

const silent = pino({ level: "silent" });
let devnet: Devnet | undefined;
const dirs: string[] = [];

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function openChain(datadir: string, genesisJson: unknown) {
  const db = await Database.open(`${datadir}/chaindata`);
  const state = new StateDb(defaultStateDbOptions, { db });
  const c = new Chain(parseGenesis(genesisJson), {
    db,
    state,
    recovery: createInlineRecovery(),
    runtime: new ContractRuntime(),
    logger: silent,
  });
  await c.init();
  return { chain: c, db };
}

describe("determinism", () => {
  it("re-executing every block on a fresh node reproduces roots, gas and receipts", async () => {
    const built = await buildContracts();
    devnet = await startDevnet({ slotMs: 300 });
    const account = privateKeyToAccount(DEV_KEYS[0]);
    const client = createPublicClient({ chain: devnetChain, transport: http(devnet.url) });
    const wallet = createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });
    const erc20 = built.erc20 as unknown as { abi: unknown[]; bytecode: Hex };
    const counter = built.counter as unknown as { abi: unknown[]; bytecode: Hex };
    const wait = (hash: Hex) => client.waitForTransactionReceipt({ hash, pollingInterval: 100 });

    const token = (
      await wait(
        await wallet.deployContract({ abi: erc20.abi, bytecode: erc20.bytecode, args: ["D", "D", 18, 10n ** 24n] }),
      )
    ).contractAddress as Hex;
    const ctr = (await wait(await wallet.deployContract({ abi: counter.abi, bytecode: counter.bytecode })))
      .contractAddress as Hex;
    const hashes: Hex[] = [];
    for (let i = 0; i < 5; i++) {
      hashes.push(
        await wallet.writeContract({
          address: token,
          abi: erc20Abi,
          functionName: "transfer",
          args: [privateKeyToAccount(DEV_KEYS[i + 1]).address, BigInt(i + 1)],
        }),
      );
      hashes.push(await wallet.writeContract({ address: ctr, abi: counter.abi, functionName: "increment" }));
    }
    // A transaction that reverts on chain (explicit gas so estimation does not refuse it).
    hashes.push(
      await wallet.writeContract({
        address: token,
        abi: erc20Abi,
        functionName: "transfer",
        args: [account.address, 10n ** 30n],
        gas: 200_000n,
      }),
    );
    for (const h of hashes) await wait(h);
    expect((await wait(hashes.at(-1) as Hex)).status).toBe("reverted");
    const datadir = devnet.datadir;
    await devnet.stop();

    const genesisJson = JSON.parse(await readFile(join(datadir, "genesis.json"), "utf8"));
    const original = await openChain(datadir, genesisJson);
    const freshDir = await mkdtemp(join(tmpdir(), "rustchain-replay-"));
    dirs.push(freshDir);
    const fresh = await openChain(freshDir, genesisJson);
    let contractTxs = 0;
    for (let n = 1n; n <= original.chain.head.number; n++) {
      const hash = (await original.chain.canonicalHash(n)) as Uint8Array;
      const block = (await original.chain.getBlock(hash)) as NonNullable<Awaited<ReturnType<Chain["getBlock"]>>>;
      // Full validation: the fresh node executes the body and checks gas used, state, tx and receipt roots.
      const imported = await fresh.chain.importBlock(block);
      expect(bytesToHex(imported.hash)).toBe(bytesToHex(hash));
      const a = (await original.chain.getReceipts(hash)) ?? [];
      const b = (await fresh.chain.getReceipts(hash)) ?? [];
      expect(b.map((r) => bytesToHex(encodeReceipt(r.receipt)))).toEqual(
        a.map((r) => bytesToHex(encodeReceipt(r.receipt))),
      );
      expect(b.map((r) => r.gasUsed)).toEqual(a.map((r) => r.gasUsed));
      contractTxs += block.transactions.length;
    }
    expect(contractTxs).toBeGreaterThanOrEqual(13);
    expect(bytesToHex(fresh.chain.head.stateRoot)).toBe(bytesToHex(original.chain.head.stateRoot));
    await original.db.close();
    await fresh.db.close();
  });
});
