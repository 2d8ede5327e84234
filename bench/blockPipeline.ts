// `npm run bench:block`: the node's per-transaction cost of one block, in process, stage by stage, on a real RocksDB:
// sender recovery, mempool admission, block building (selection + execution + state root), and import (roots,
// encoding, the atomic write). No JSON-RPC and no network, so the figures isolate the chain's own work; bench:tps
// measures the whole path. Each block carries --txs value transfers from --senders funded accounts.
// Ends with one line: block txs=<n> us_per_tx=<total> recover_us=<n> pool_us=<n> build_us=<n> import_us=<n>
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { blsKeypairFromSeed, blsSign, bytesToHex, parseGenesis, type SignedTransaction } from "@rustchain/shared";
import { pino } from "pino";
import { BlockProducer } from "../validator/src/chain/blockProducer.ts";
import { blockSigningRoot, Chain } from "../validator/src/chain/chain.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../validator/src/cli/devnetGenesis.ts";
import { Database } from "../validator/src/db/database.ts";
import { createRecoveryPool } from "../validator/src/execution/senderRecovery.ts";
import { defaultMempoolOptions, Mempool } from "../validator/src/mempool/mempool.ts";
import { ContractRuntime } from "../validator/src/runtime/contractRuntime.ts";
import { defaultStateDbOptions, StateDb } from "../validator/src/state/stateDb.ts";
import { ETHER, freshAccounts, GWEI, sign, TRANSFER_GAS } from "./support/accounts.ts";
import { intOpt } from "./support/cli.ts";

const { values: opts } = parseArgs({
  options: {
    txs: { type: "string", default: "10000" },
    senders: { type: "string", default: "1000" },
    blocks: { type: "string", default: "4" },
  },
});
const TXS = intOpt("txs", opts.txs, 1);
const SENDERS = intOpt("senders", opts.senders, 1);
const BLOCKS = intOpt("blocks", opts.blocks, 1);

const silent = pino({ level: "silent" });
const key = blsKeypairFromSeed(new Uint8Array(32).fill(7));
const senders = freshAccounts("rustchain-bench-block", SENDERS);
const base = devnetGenesis([{ secretKey: key.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 1000);
for (const s of senders) base.alloc[s.hex] = { balance: `0x${(1000n * ETHER).toString(16)}` };
const genesis = parseGenesis({ ...base, timestamp: Math.floor(Date.now() / 1000) - 3600 });

const dir = await mkdtemp(join(tmpdir(), "rustchain-bench-block-"));
const db = await Database.open(join(dir, "chaindata"));
const state = new StateDb(defaultStateDbOptions, { db });
const recovery = createRecoveryPool();
const chain = new Chain(genesis, { db, state, recovery, runtime: new ContractRuntime(), logger: silent });
await chain.init();
const mempool = new Mempool(defaultMempoolOptions, {
  head: () => chain.mempoolHead(),
});
chain.on("block", (b) => void mempool.onBlock(b.txs, async (a) => (await state.headAccount(a)).nonce));
const producer = new BlockProducer(
  { validatorIndex: 0, extraData: new Uint8Array(0) },
  { chain, mempool, logger: silent },
);

const totals = { recover: 0, pool: 0, build: 0, import: 0, txs: 0 };
// Time spent in Chain.importBlock is measured by wrapping it; the rest of produce() is building.
const importBlock = chain.importBlock.bind(chain);
let importMs = 0;
chain.importBlock = async (...args) => {
  const t = performance.now();
  try {
    return await importBlock(...args);
  } finally {
    importMs += performance.now() - t;
  }
};

const nonces = senders.map(() => 0n);
for (let b = 0; b < BLOCKS; b++) {
  const raws = Array.from({ length: TXS }, (_, i) => {
    const s = i % SENDERS;
    const to = senders[(s + 1) % SENDERS]!;
    const signed = sign(
      chain.chainId,
      senders[s]!,
      nonces[s]!++,
      { to: to.address, value: GWEI, gasLimit: TRANSFER_GAS },
      s,
    );
    return Buffer.from(signed.raw.slice(2), "hex");
  });
  let t = performance.now();
  const recovered = await recovery.recover(raws);
  const recoverMs = performance.now() - t;
  t = performance.now();
  for (const r of recovered) await mempool.add(r as SignedTransaction);
  const poolMs = performance.now() - t;
  importMs = 0;
  t = performance.now();
  const slot = BigInt(b + 1);
  const imported = await producer.produce({
    slot,
    vrfProof: new Uint8Array(0),
    sign: async (_slot, hash) => blsSign(key.secretKey, blockSigningRoot(chain.chainId, hash)),
  });
  const buildMs = performance.now() - t - importMs;
  if (imported.txs.length !== TXS) throw new Error(`block ${b + 1} included ${imported.txs.length} of ${TXS}`);
  console.log(
    `block ${imported.block.header.number} ${bytesToHex(imported.hash).slice(0, 10)}: ${TXS} txs recover=${recoverMs.toFixed(0)}ms ` +
      `pool=${poolMs.toFixed(0)}ms build=${buildMs.toFixed(0)}ms import=${importMs.toFixed(0)}ms`,
  );
  if (b === 0) continue; // the first block warms caches and JIT
  totals.recover += recoverMs;
  totals.pool += poolMs;
  totals.build += buildMs;
  totals.import += importMs;
  totals.txs += TXS;
}
await recovery.close();
await db.close();
await rm(dir, { recursive: true, force: true });
const us = (ms: number) => ((ms * 1000) / Math.max(1, totals.txs)).toFixed(1);
const all = totals.recover + totals.pool + totals.build + totals.import;
console.log(
  `block txs=${TXS} us_per_tx=${us(all)} recover_us=${us(totals.recover)} pool_us=${us(totals.pool)} build_us=${us(totals.build)} import_us=${us(totals.import)}`,
);
