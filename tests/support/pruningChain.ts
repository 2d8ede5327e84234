// A chain on a real RocksDB with a state pruner whose finalized block the test moves, for the state pruning tests
// (validator/src/chain/statePruner.test.ts, tests/statePruning.e2e.test.ts and its child, tests/support/pruneChild.ts).
// Blocks are produced by the real BlockProducer and imported through Chain.importBlock; a storage contract (slot ←
// value) is deployed twice, so storage values can go A → B → A and two storage tries can hold the same nodes.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  bigintToBytes32,
  blake3,
  blsKeypairFromSeed,
  blsSign,
  bytesToHex,
  concatBytes,
  hexToBytes,
  parseGenesis,
  privateKeyToAddress,
  type SignedTransaction,
  signTransaction,
} from "@rustchain/shared";
import { decodeAccount } from "@rustchain/shared/account";
import { iterateTrie } from "@rustchain/shared/trieRange";
import type { Logger } from "pino";
import { CLANG_FLAGS, SDK_HEADER } from "../../contracts/build.ts";
import { BlockProducer } from "../../validator/src/chain/blockProducer.ts";
import { blockSigningRoot, Chain, type ImportedBlock } from "../../validator/src/chain/chain.ts";
import { StatePruner, type StatePrunerOptions } from "../../validator/src/chain/statePruner.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "../../validator/src/cli/devnetGenesis.ts";
import { Bucket, Database } from "../../validator/src/db/database.ts";
import { createInlineRecovery } from "../../validator/src/execution/senderRecovery.ts";
import { defaultMempoolOptions, Mempool } from "../../validator/src/mempool/mempool.ts";
import { ContractRuntime, createAddress, toArtefact } from "../../validator/src/runtime/contractRuntime.ts";
import { EMPTY_TRIE_ROOT } from "../../validator/src/state/account.ts";
import { defaultStateDbOptions, encodeStorageValue, StateDb } from "../../validator/src/state/stateDb.ts";
import { DEV_KEYS } from "./devnet.ts";

const validatorKey = blsKeypairFromSeed(new Uint8Array(32).fill(9));
export const pruningGenesis = parseGenesis({
  ...devnetGenesis([{ secretKey: validatorKey.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 1000),
  timestamp: 1_700_000_000,
});
const GWEI = 10n ** 9n;
export const KEYS = DEV_KEYS.map(hexToBytes);
export const SENDERS = KEYS.map(privateKeyToAddress);
/** Recipients of transfers that exist on some branches only. */
export const RECIPIENTS = [1, 2, 3].map((i) => hexToBytes(`0x${i.toString(16).padStart(40, "0")}`));
/** The two storage contracts (dev account 0's first two transactions). */
export const CONTRACTS = [createAddress(SENDERS[0]!, 0n), createAddress(SENDERS[0]!, 1n)];

// Stores calldata word 1 into the slot named by calldata word 0 (a zero value clears the slot).
const STORE_CONTRACT = `
RC_EXPORT("call") void call(void) {
  uint8_t in[64];
  if (rc_host_calldata_size() != 64) rc_host_revert("len", 3);
  rc_host_calldata_copy(in, 0, 64);
  rc_host_storage_write(in, in + 32);
  rc_host_finish(in, 0);
}`;

/** The storage contract's deploy data, compiled once into `dir`. */
export async function buildStoreContract(dir: string): Promise<Uint8Array> {
  const src = join(dir, "store.c");
  const out = join(dir, "store.wasm");
  await writeFile(src, `#include "${SDK_HEADER}"\n${STORE_CONTRACT}`);
  await promisify(execFile)("clang", [...CLANG_FLAGS, "-o", out, src]);
  return toArtefact(new Uint8Array(await readFile(out)));
}

function signed(key: number, nonce: bigint, to: Uint8Array | null, data: Uint8Array, value: bigint, gas: bigint) {
  return signTransaction(
    {
      type: 2,
      chainId: pruningGenesis.params.chainId,
      nonce,
      maxPriorityFeePerGas: GWEI,
      maxFeePerGas: 100n * GWEI,
      gasLimit: gas,
      to,
      value,
      data,
      accessList: [],
    },
    KEYS[key]!,
  );
}

/** What a block's transactions do; nonces are filled in from the head when the block is produced. */
export type TxSpec =
  | { kind: "transfer"; from: number; to: number; value: bigint }
  | { kind: "store"; from: number; contract: number; slot: number; value: bigint };

export interface PruningChain {
  db: Database;
  state: StateDb;
  chain: Chain;
  pruner: StatePruner;
  /** The finalized block the pruner reads (the test moves it). */
  finalized: bigint;
  produce(txs: TxSpec[] | SignedTransaction[]): Promise<ImportedBlock>;
  close(): Promise<void>;
}

/** A reader straight from RocksDB: no cache can hide a deleted node. */
export function diskReader(db: Database) {
  return { getNode: (h: Uint8Array) => db.get(Bucket.stateNodes, h) };
}

let nextSlot = 1n;

export async function openPruningChain(
  dir: string,
  opts: { pruner: Partial<StatePrunerOptions>; finalized?: bigint; logger: Logger },
): Promise<PruningChain> {
  const db = await Database.open(join(dir, "chaindata"));
  const state = new StateDb(defaultStateDbOptions, { db });
  const chain = new Chain(pruningGenesis, {
    db,
    state,
    recovery: createInlineRecovery(),
    runtime: new ContractRuntime(),
    logger: opts.logger,
  });
  await chain.init();
  const out: PruningChain = {
    db,
    state,
    chain,
    finalized: opts.finalized ?? 0n,
    pruner: undefined as unknown as StatePruner,
    async produce(specs) {
      const mempool = new Mempool(defaultMempoolOptions, {
        head: () => chain.mempoolHead(),
      });
      const nonces = new Map<number, bigint>();
      const nonceOf = async (key: number) => {
        const n = nonces.get(key) ?? (await state.headAccount(SENDERS[key]!)).nonce;
        nonces.set(key, n + 1n);
        return n;
      };
      for (const spec of specs) {
        let stx: SignedTransaction;
        if (!("kind" in spec)) stx = spec;
        else if (spec.kind === "transfer")
          stx = signed(
            spec.from,
            await nonceOf(spec.from),
            RECIPIENTS[spec.to]!,
            new Uint8Array(0),
            spec.value,
            21_000n,
          );
        else {
          const data = concatBytes(bigintToBytes32(BigInt(spec.slot)), bigintToBytes32(spec.value));
          stx = signed(spec.from, await nonceOf(spec.from), CONTRACTS[spec.contract]!, data, 0n, 300_000n);
        }
        await mempool.add(stx);
      }
      const producer = new BlockProducer(
        { validatorIndex: 0, extraData: new Uint8Array(0) },
        { chain, mempool, logger: opts.logger },
      );
      // Slots only grow, across forks too (a child's slot must be above its parent's).
      const slot = nextSlot > chain.head.slot ? nextSlot : chain.head.slot + 1n;
      nextSlot = slot + 1n;
      return producer.produce({
        slot,
        vrfProof: new Uint8Array(0),
        sign: async (_slot, hash) => blsSign(validatorKey.secretKey, blockSigningRoot(chain.chainId, hash)),
      });
    },
    async close() {
      await out.pruner.stop();
      await db.close();
    },
  };
  out.pruner = new StatePruner(
    { ...defaultPrunerTestOptions, ...opts.pruner },
    { db, chain, finalized: async () => out.finalized, logger: opts.logger },
  );
  await out.pruner.init();
  return out;
}

const defaultPrunerTestOptions: StatePrunerOptions = {
  archive: false,
  history: 2,
  pollMs: 60_000,
  garbageRatio: 0.25,
  minWrittenNodes: 0,
  dutyCycle: 1,
  chunkNodes: 16,
  writtenFilterLog2Bits: 16,
};

/** Deploy the two storage contracts (dev account 0, nonces 0 and 1). */
export function deployTxs(deployData: Uint8Array): SignedTransaction[] {
  return [0n, 1n].map((nonce) => signed(0, nonce, null, deployData, 0n, 5_000_000n));
}

/** A state as plain data: hashed account key → account RLP, and per account its hashed slot key → stored value. */
export interface StateImage {
  accounts: Map<string, string>;
  storage: Map<string, Map<string, string>>;
}

/** The head's state read from the flat view (the reference a kept root's trie must match). */
export async function flatImage(db: Database): Promise<StateImage> {
  const accounts = new Map<string, string>();
  const storage = new Map<string, Map<string, string>>();
  for await (const [address, enc] of db.range(Bucket.flatAccounts))
    accounts.set(bytesToHex(blake3(address)), bytesToHex(enc));
  for await (const [key, value] of db.range(Bucket.flatStorage)) {
    const account = bytesToHex(blake3(key.subarray(0, 20)));
    const slots = storage.get(account) ?? new Map<string, string>();
    storage.set(account, slots);
    slots.set(bytesToHex(blake3(key.subarray(20))), bytesToHex(encodeStorageValue(value)));
  }
  return { accounts, storage };
}

/**
 * The whole state under `root`, read through its tries straight from disk (throws on any missing node); every node
 * hash read goes into `reached` when given.
 */
export async function trieImage(db: Database, root: Uint8Array, reached?: Set<string>): Promise<StateImage> {
  const disk = diskReader(db);
  const reader = {
    getNode: async (h: Uint8Array) => {
      reached?.add(bytesToHex(h));
      return disk.getNode(h);
    },
  };
  const accounts = new Map<string, string>();
  const storage = new Map<string, Map<string, string>>();
  for await (const { key, value } of iterateTrie({ hash: blake3, root, reader })) {
    accounts.set(bytesToHex(key), bytesToHex(value));
    const { storageRoot } = decodeAccount(value);
    if (Buffer.compare(storageRoot, EMPTY_TRIE_ROOT) === 0) continue;
    const slots = new Map<string, string>();
    for await (const e of iterateTrie({ hash: blake3, root: storageRoot, reader })) {
      slots.set(bytesToHex(e.key), bytesToHex(e.value));
    }
    storage.set(bytesToHex(key), slots);
  }
  return { accounts, storage };
}

/** Number of trie nodes stored. */
export async function storedNodes(db: Database): Promise<number> {
  let n = 0;
  for await (const _ of db.keys(Bucket.stateNodes)) n++;
  return n;
}
