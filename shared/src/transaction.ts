// Ethereum typed transactions: legacy (EIP-155 only), EIP-2930 and EIP-1559. Hash = keccak256(raw), exactly as
// Ethereum, so ethers' and viem's own hash checks pass.
import { ChainError, TxError } from "./errors.ts";
import { keccak256 } from "./hash.ts";
import { bytesToHex, concatBytes } from "./hex.ts";
import { type RlpDecoded, type RlpInput, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "./rlp.ts";
import { type EcdsaSignature, recoverAddress, signHash } from "./secp256k1.ts";

/** Largest raw transaction accepted anywhere (mempool, RPC, gossip): geth's 128 KiB. */
export const MAX_TX_SIZE = 128 * 1024;

export type TxType = 0 | 1 | 2;

export interface AccessListItem {
  address: Uint8Array;
  storageKeys: Uint8Array[];
}

export interface UnsignedTransaction {
  type: TxType;
  chainId: bigint;
  nonce: bigint;
  /** For legacy and EIP-2930 both equal the gas price. */
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gasLimit: bigint;
  to: Uint8Array | null;
  value: bigint;
  data: Uint8Array;
  accessList: AccessListItem[];
}

export interface Transaction extends UnsignedTransaction {
  r: bigint;
  s: bigint;
  yParity: 0 | 1;
  /** The legacy `v` as signed (EIP-155), or yParity for typed transactions. */
  v: bigint;
}

export interface SignedTransaction {
  tx: Transaction;
  raw: Uint8Array;
  hash: Uint8Array;
  from: Uint8Array;
}

const encodeAccessList = (list: AccessListItem[]): RlpInput =>
  list.map((item) => [item.address, item.storageKeys] as RlpInput);

function decodeAccessList(item: RlpDecoded | undefined): AccessListItem[] {
  return rlpList(item, "accessList").map((entry) => {
    const [address, keys] = rlpList(entry, "accessList entry", 2);
    const addr = rlpBytes(address, "accessList address");
    if (addr.length !== 20) throw new TxError({ code: "TX_MALFORMED", reason: "access list address must be 20 bytes" });
    const storageKeys = rlpList(keys, "storage keys").map((k) => {
      const key = rlpBytes(k, "storage key");
      if (key.length !== 32) throw new TxError({ code: "TX_MALFORMED", reason: "storage key must be 32 bytes" });
      return key;
    });
    return { address: addr, storageKeys };
  });
}

function decodeTo(item: RlpDecoded | undefined): Uint8Array | null {
  const to = rlpBytes(item, "to");
  if (to.length === 0) return null;
  if (to.length !== 20) throw new TxError({ code: "TX_MALFORMED", reason: "to address must be 20 bytes" });
  return to;
}

function unsignedFields(tx: UnsignedTransaction): RlpInput[] {
  switch (tx.type) {
    case 0:
      return [tx.nonce, tx.maxFeePerGas, tx.gasLimit, tx.to, tx.value, tx.data];
    case 1:
      return [
        tx.chainId,
        tx.nonce,
        tx.maxFeePerGas,
        tx.gasLimit,
        tx.to,
        tx.value,
        tx.data,
        encodeAccessList(tx.accessList),
      ];
    case 2:
      return [
        tx.chainId,
        tx.nonce,
        tx.maxPriorityFeePerGas,
        tx.maxFeePerGas,
        tx.gasLimit,
        tx.to,
        tx.value,
        tx.data,
        encodeAccessList(tx.accessList),
      ];
  }
}

/** The hash a sender signs (EIP-155 for legacy, type-prefixed for typed transactions). */
export function signingHash(tx: UnsignedTransaction): Uint8Array {
  if (tx.type === 0) return keccak256(rlpEncode([...unsignedFields(tx), tx.chainId, 0n, 0n]));
  return keccak256(concatBytes(Uint8Array.of(tx.type), rlpEncode(unsignedFields(tx))));
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  if (tx.type === 0) return rlpEncode([...unsignedFields(tx), tx.v, tx.r, tx.s]);
  return concatBytes(Uint8Array.of(tx.type), rlpEncode([...unsignedFields(tx), tx.yParity, tx.r, tx.s]));
}

/**
 * Decode a raw transaction. Throws TxError (or ChainError for broken RLP) on anything that is not a canonical,
 * supported, EIP-155 replay-protected transaction. Does not check the signature. Canonical without re-encoding: the
 * RLP decoder refuses every non-shortest length form and rlpUint every integer with a leading zero, so a transaction
 * that decodes encodes back to exactly its input (property-tested), and one transaction has exactly one hash.
 */
export function decodeTransaction(raw: Uint8Array): Transaction {
  return decodeWithFields(raw).tx;
}

/** decodeTransaction, also handing back a typed transaction's decoded RLP items (for its signing hash). */
function decodeWithFields(raw: Uint8Array): { tx: Transaction; fields?: RlpDecoded[] } {
  if (raw.length > MAX_TX_SIZE) throw new TxError({ code: "TX_OVERSIZED", size: raw.length, limit: MAX_TX_SIZE });
  if (raw.length === 0) throw new TxError({ code: "TX_MALFORMED", reason: "empty" });
  const first = raw[0] as number;
  if (first >= 0xc0) return { tx: decodeLegacy(raw) };
  if (first > 0x7f) throw new TxError({ code: "TX_MALFORMED", reason: "not a transaction" });
  if (first !== 1 && first !== 2) throw new TxError({ code: "TX_TYPE_NOT_SUPPORTED", txType: first });
  const fields = rlpList(rlpDecode(raw.subarray(1), MAX_TX_SIZE), "transaction", first === 1 ? 11 : 12);
  const type = first as 1 | 2;
  let i = 0;
  const chainId = rlpUint(fields[i++], "chainId");
  const nonce = rlpUint(fields[i++], "nonce", 8);
  const maxPriorityFeePerGas = rlpUint(fields[i++], "maxPriorityFeePerGas");
  const maxFeePerGas = type === 2 ? rlpUint(fields[i++], "maxFeePerGas") : maxPriorityFeePerGas;
  const gasLimit = rlpUint(fields[i++], "gasLimit", 8);
  const to = decodeTo(fields[i++]);
  const value = rlpUint(fields[i++], "value");
  const data = rlpBytes(fields[i++], "data");
  const accessList = decodeAccessList(fields[i++]);
  const yParity = rlpUint(fields[i++], "yParity", 1);
  if (yParity > 1n) throw new TxError({ code: "TX_INVALID_SIGNATURE" });
  const r = rlpUint(fields[i++], "r");
  const s = rlpUint(fields[i++], "s");
  const tx: Transaction = {
    type,
    chainId,
    nonce,
    maxPriorityFeePerGas,
    maxFeePerGas,
    gasLimit,
    to,
    value,
    data,
    accessList,
    yParity: Number(yParity) as 0 | 1,
    r,
    s,
    v: yParity,
  };
  return { tx, fields };
}

function decodeLegacy(raw: Uint8Array): Transaction {
  const fields = rlpList(rlpDecode(raw, MAX_TX_SIZE), "transaction", 9);
  const v = rlpUint(fields[6], "v");
  if (v === 27n || v === 28n) throw new TxError({ code: "TX_NOT_REPLAY_PROTECTED" });
  if (v < 35n) throw new TxError({ code: "TX_INVALID_SIGNATURE" });
  const chainId = (v - 35n) / 2n;
  const gasPrice = rlpUint(fields[1], "gasPrice");
  const tx: Transaction = {
    type: 0,
    chainId,
    nonce: rlpUint(fields[0], "nonce", 8),
    maxPriorityFeePerGas: gasPrice,
    maxFeePerGas: gasPrice,
    gasLimit: rlpUint(fields[2], "gasLimit", 8),
    to: decodeTo(fields[3]),
    value: rlpUint(fields[4], "value"),
    data: rlpBytes(fields[5], "data"),
    accessList: [],
    v,
    yParity: Number((v - 35n) % 2n) as 0 | 1,
    r: rlpUint(fields[7], "r"),
    s: rlpUint(fields[8], "s"),
  };
  return tx;
}

/** Bytes the RLP encoding of byte string `b` takes (b at most 55 bytes, as a transaction's yParity, r and s). */
function rlpItemSize(b: Uint8Array): number {
  return b.length === 1 && (b[0] as number) < 0x80 ? 1 : 1 + b.length;
}

/**
 * The signing hash of a typed transaction straight from its canonical encoding: the same list without its last three
 * items (yParity, r, s) under a new list header, instead of encoding the fields again.
 */
function typedSigningHash(raw: Uint8Array, fields: RlpDecoded[]): Uint8Array {
  const listByte = raw[1] as number;
  const headerSize = listByte <= 0xf7 ? 1 : 1 + (listByte - 0xf7);
  const n = fields.length;
  let tail = 0;
  for (let i = n - 3; i < n; i++) tail += rlpItemSize(fields[i] as Uint8Array);
  const payload = raw.subarray(1 + headerSize, raw.length - tail);
  const len = payload.length;
  const lenBytes: number[] = [];
  for (let v = len; v > 0; v >>= 8) lenBytes.unshift(v & 0xff);
  const header = len < 56 ? [0xc0 + len] : [0xf7 + lenBytes.length, ...lenBytes];
  const out = new Uint8Array(1 + header.length + len);
  out[0] = raw[0] as number;
  out.set(header, 1);
  out.set(payload, 1 + header.length);
  return keccak256(out);
}

/** Decode, hash and recover the sender. The CPU-heavy step (recovery) is what the validator runs in workers. */
export function recoverTransaction(raw: Uint8Array): SignedTransaction {
  const { tx, fields } = decodeWithFields(raw);
  let from: Uint8Array;
  try {
    from = fields
      ? recoverAddress(typedSigningHash(raw, fields), tx, [
          fields[fields.length - 2] as Uint8Array,
          fields[fields.length - 1] as Uint8Array,
        ])
      : recoverAddress(signingHash(tx), tx);
  } catch (e) {
    if (e instanceof ChainError) throw new TxError({ code: "TX_INVALID_SIGNATURE" });
    throw e;
  }
  return { tx, raw, hash: keccak256(raw), from };
}

export function signTransaction(tx: UnsignedTransaction, privateKey: Uint8Array): SignedTransaction {
  const sig: EcdsaSignature = signHash(signingHash(tx), privateKey);
  const v = tx.type === 0 ? BigInt(sig.yParity) + 35n + 2n * tx.chainId : BigInt(sig.yParity);
  const signed: Transaction = { ...tx, ...sig, v };
  const raw = encodeTransaction(signed);
  return recoverTransaction(raw);
}

export const TX_GAS = 21_000n;
export const TX_CREATE_GAS = 53_000n;
export const TX_DATA_ZERO_GAS = 4n;
export const TX_DATA_NONZERO_GAS = 16n;
export const TX_ACCESS_LIST_ADDRESS_GAS = 2_400n;
export const TX_ACCESS_LIST_STORAGE_KEY_GAS = 1_900n;
export const INITCODE_WORD_GAS = 2n;

/** Intrinsic gas as Ethereum (Shanghai) computes it, so wallets' estimates carry over. */
export function intrinsicGas(tx: UnsignedTransaction): bigint {
  let gas = tx.to === null ? TX_CREATE_GAS : TX_GAS;
  let zeros = 0n;
  for (const b of tx.data) if (b === 0) zeros++;
  const nonZeros = BigInt(tx.data.length) - zeros;
  gas += zeros * TX_DATA_ZERO_GAS + nonZeros * TX_DATA_NONZERO_GAS;
  if (tx.to === null) gas += ((BigInt(tx.data.length) + 31n) / 32n) * INITCODE_WORD_GAS;
  for (const item of tx.accessList) {
    gas += TX_ACCESS_LIST_ADDRESS_GAS + BigInt(item.storageKeys.length) * TX_ACCESS_LIST_STORAGE_KEY_GAS;
  }
  return gas;
}

/** The gas price the sender pays per gas at a given base fee (EIP-1559). */
export function effectiveGasPrice(tx: UnsignedTransaction, baseFee: bigint): bigint {
  const tip = tx.maxFeePerGas - baseFee;
  return baseFee + (tx.maxPriorityFeePerGas < tip ? tx.maxPriorityFeePerGas : tip);
}

export function txHashHex(stx: SignedTransaction): string {
  return bytesToHex(stx.hash);
}
