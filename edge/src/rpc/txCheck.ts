// Checks on eth_sendRawTransaction at the edge, so that nothing the core would refuse for its form reaches it. The
// order and the answers follow the core exactly (shared/src/transaction.ts decodeTransaction / recoverTransaction,
// then the mempool's chain-id check; errors via shared/src/rpcErrors.ts: every refusal is -32000 with geth's message):
// size, envelope type (legacy with EIP-155, EIP-2930, EIP-1559 only), field count, legacy `v` (27/28 = not replay
// protected), canonical encoding, signature ranges (EIP-2 low s) and recovery, then the chain id. Pure JS (viem), so it
// runs in workerd and Node alike.
import { txErrorMessage } from "@rustchain/shared/errors";
import type { Hex } from "@rustchain/shared/hex";
import { RpcCode } from "@rustchain/shared/rpcErrors";
import {
  fromRlp,
  hexToBigInt,
  keccak256,
  parseTransaction,
  recoverTransactionAddress,
  serializeTransaction,
} from "viem";
import type { JsonRpcErrorObject } from "../app/contract.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SECP256K1_HALF_N = SECP256K1_N / 2n;

export interface TxCheckOptions {
  chainId: bigint;
  maxTxBytes: number;
}

export type TxCheckResult =
  | { ok: true; hash: Hex; from: Hex; chainId: bigint; nonce: number; type: "legacy" | "eip2930" | "eip1559" }
  | { ok: false; error: JsonRpcErrorObject };

const refuse = (message: string): TxCheckResult => ({ ok: false, error: { code: RpcCode.INVALID_INPUT, message } });
const invalidSignature = () => refuse(txErrorMessage({ code: "TX_INVALID_SIGNATURE" }));
const malformed = (reason: string) => refuse(txErrorMessage({ code: "TX_MALFORMED", reason }));

/**
 * Check a raw transaction (already a well-formed hex string of whole bytes: the method table's param check ran first).
 * Resolves to the hash and sender when the core would accept its form, or to the core's error object.
 */
export async function checkRawTransaction(raw: Hex, opts: TxCheckOptions): Promise<TxCheckResult> {
  const raw_ = raw.toLowerCase() as Hex;
  const size = (raw_.length - 2) / 2;
  if (size > opts.maxTxBytes) return refuse(txErrorMessage({ code: "TX_OVERSIZED", size, limit: opts.maxTxBytes }));
  if (size === 0) return malformed("empty");
  const first = Number.parseInt(raw_.slice(2, 4), 16);
  if (first > 0x7f && first < 0xc0) return malformed("not a transaction");
  if (first <= 0x7f && first !== 1 && first !== 2)
    return refuse(txErrorMessage({ code: "TX_TYPE_NOT_SUPPORTED", txType: first }));

  // The envelope: an RLP list of exactly the core's field count.
  let fields: unknown;
  try {
    fields = fromRlp(first >= 0xc0 ? raw_ : (`0x${raw_.slice(4)}` as Hex), "hex");
  } catch (e) {
    return refuse(`rlp: ${shortMessage(e)}`);
  }
  const want = first >= 0xc0 ? 9 : first === 1 ? 11 : 12;
  if (!Array.isArray(fields)) return refuse("rlp: transaction: expected list");
  if (fields.length !== want) return refuse(`rlp: transaction: expected ${want} items, got ${fields.length}`);
  if (first >= 0xc0) {
    const vField: unknown = fields[6];
    if (typeof vField !== "string") return refuse("rlp: v: expected bytes");
    const v = vField === "0x" ? 0n : hexToBigInt(vField as Hex);
    if (v === 27n || v === 28n) return refuse(txErrorMessage({ code: "TX_NOT_REPLAY_PROTECTED" }));
    if (v < 35n) return invalidSignature();
  } else {
    const yField: unknown = fields[want - 3];
    if (typeof yField !== "string") return refuse("rlp: yParity: expected bytes");
    if ((yField === "0x" ? 0n : hexToBigInt(yField as Hex)) > 1n) return invalidSignature();
  }

  let tx: ReturnType<typeof parseTransaction>;
  try {
    tx = parseTransaction(raw_);
  } catch (e) {
    return malformed(shortMessage(e));
  }
  const type = tx.type;
  if (type !== "legacy" && type !== "eip2930" && type !== "eip1559")
    return refuse(txErrorMessage({ code: "TX_TYPE_NOT_SUPPORTED", txType: first }));
  // One transaction, one hash: re-encoding must give back the very bytes (no leading zeros, no long-form lengths).
  const { r, s, v, yParity, ...unsigned } = tx;
  try {
    const again = serializeTransaction(
      unsigned as Parameters<typeof serializeTransaction>[0],
      {
        r: r as Hex,
        s: s as Hex,
        v,
        yParity,
      } as Parameters<typeof serializeTransaction>[1],
    );
    if (again.toLowerCase() !== raw_) return malformed("non-canonical encoding");
  } catch (e) {
    return malformed(shortMessage(e));
  }
  const rn = r ? hexToBigInt(r) : 0n;
  const sn = s ? hexToBigInt(s) : 0n;
  if (rn <= 0n || rn >= SECP256K1_N || sn <= 0n || sn > SECP256K1_HALF_N) return invalidSignature();
  let from: Hex;
  try {
    from = (await recoverTransactionAddress({ serializedTransaction: raw_ as never })).toLowerCase() as Hex;
  } catch {
    return invalidSignature();
  }
  const chainId = tx.chainId === undefined ? -1n : BigInt(tx.chainId);
  if (chainId !== opts.chainId)
    return refuse(txErrorMessage({ code: "TX_WRONG_CHAIN_ID", expected: opts.chainId, got: chainId }));
  return { ok: true, hash: keccak256(raw_), from, chainId, nonce: tx.nonce ?? 0, type };
}

function shortMessage(e: unknown): string {
  const m = (e as { shortMessage?: unknown })?.shortMessage;
  const text = typeof m === "string" ? m : e instanceof Error ? e.message : "malformed";
  return text.split("\n")[0]?.slice(0, 120) ?? "malformed";
}
