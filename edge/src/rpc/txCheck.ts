// Checks on eth_sendRawTransaction at the edge, so that nothing the core would refuse for its form reaches it. Not a
// copy of the core's rules: the core's own code. shared/src/transaction.ts `recoverTransaction` decodes (size, type,
// field count, canonical RLP, EIP-155) and recovers the sender (EIP-2 low s) exactly as the core's sender recovery
// does, with the runtime's crypto (noble on Workers, native on Node: shared/src/crypto.ts); then the mempool's first
// checks that need no state: the size limit and the chain id. Every refusal goes through the shared `toRpcError`, so
// the edge answers the core's status, code, message and `data.code`.
import { TxError } from "@rustchain/shared/errors";
import { bytesToHex, type Hex, hexToBytes } from "@rustchain/shared/hex";
import { type RpcErrorObject, toRpcError } from "@rustchain/shared/rpcErrors";
import { recoverTransaction } from "@rustchain/shared/transaction";

export interface TxCheckOptions {
  chainId: bigint;
  maxTxBytes: number;
}

export type TxCheckResult =
  | { ok: true; hash: Hex; from: Hex; chainId: bigint; nonce: bigint; type: 0 | 1 | 2 }
  | { ok: false; error: RpcErrorObject };

/**
 * Check a raw transaction (a hex string of whole bytes: the method table's param check ran first). The hash and
 * sender when the core would accept its form, or the core's error object.
 */
export function checkRawTransaction(raw: Hex, opts: TxCheckOptions): TxCheckResult {
  try {
    const bytes = hexToBytes(raw);
    if (bytes.length > opts.maxTxBytes) {
      throw new TxError({ code: "TX_OVERSIZED", size: bytes.length, limit: opts.maxTxBytes });
    }
    const { tx, hash, from } = recoverTransaction(bytes);
    if (tx.chainId !== opts.chainId) {
      throw new TxError({ code: "TX_WRONG_CHAIN_ID", expected: opts.chainId, got: tx.chainId });
    }
    return {
      ok: true,
      hash: bytesToHex(hash),
      from: bytesToHex(from),
      chainId: tx.chainId,
      nonce: tx.nonce,
      type: tx.type,
    };
  } catch (e) {
    return { ok: false, error: toRpcError(e).toJSON() };
  }
}
