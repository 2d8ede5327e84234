// Accounts and pre-signed EIP-1559 transactions for the benches.
import { keccak256 } from "@rustchain/shared/hash";
import { bytesToHex, hexToBytes } from "@rustchain/shared/hex";
import { privateKeyToAddress, signHash } from "@rustchain/shared/secp256k1";
import { encodeTransaction, signingHash, type UnsignedTransaction } from "@rustchain/shared/transaction";
import { DEV_KEYS } from "../../tests/support/devnet.ts";

export const GWEI = 1_000_000_000n;
export const ETHER = 10n ** 18n;
/** Fee cap and tip of every bench transaction. */
export const MAX_FEE = 100n * GWEI;
export const TIP = 1n * GWEI;
/** Gas limit of a plain value transfer. */
export const TRANSFER_GAS = 21_000n;

export interface Account {
  key: Uint8Array;
  address: Uint8Array;
  hex: `0x${string}`;
}

export function account(key: Uint8Array): Account {
  const address = privateKeyToAddress(key);
  return { key, address, hex: bytesToHex(address) as `0x${string}` };
}

/** The devnet's pre-funded accounts (hardhat node funds the same ones). */
export const devAccounts: readonly Account[] = DEV_KEYS.map((k) => account(hexToBytes(k)));

/**
 * `count` deterministic fresh accounts, keys keccak(`${label}-${i}`) (valid secp256k1 scalars with overwhelming
 * probability).
 */
export function freshAccounts(label: string, count: number): Account[] {
  return Array.from({ length: count }, (_, i) => account(keccak256(new TextEncoder().encode(`${label}-${i}`))));
}

export interface Signed {
  raw: string;
  hash: string;
  /** Index into the account list the run tracks nonces of. */
  sender: number;
}

export interface TxFields {
  to: Uint8Array | null;
  value: bigint;
  data?: Uint8Array;
  gasLimit: bigint;
}

/** Sign one EIP-1559 transaction at MAX_FEE / TIP; `sender` is the index of `from` in the run's account list. */
export function sign(chainId: bigint, from: Account, nonce: bigint, tx: TxFields, sender: number): Signed {
  const unsigned: UnsignedTransaction = {
    type: 2,
    chainId,
    nonce,
    maxPriorityFeePerGas: TIP,
    maxFeePerGas: MAX_FEE,
    gasLimit: tx.gasLimit,
    to: tx.to,
    value: tx.value,
    data: tx.data ?? new Uint8Array(0),
    accessList: [],
  };
  // Sign and encode only (signTransaction also recovers the sender back, which doubles the cost of pre-signing the
  // hundreds of thousands of transactions a bench:tps run sends).
  const sig = signHash(signingHash(unsigned), from.key);
  const raw = encodeTransaction({ ...unsigned, ...sig, v: BigInt(sig.yParity) });
  return { raw: bytesToHex(raw), hash: bytesToHex(keccak256(raw)), sender };
}

/**
 * RTC to give each of `senders` for `txs` transactions in all at `perTxCost` wei each worst case: twice the need plus
 * headroom, at least 10 RTC.
 */
export function fundingPerSender(perTxCost: bigint, txs: number, senders: number): bigint {
  const need = perTxCost * BigInt(Math.ceil(txs / senders) + 10) * 2n;
  return need > 10n * ETHER ? need : 10n * ETHER;
}
