// Worker-thread body for sender recovery: decode, hash and recover a batch of raw transactions. Runs off the main
// event loop so RPC and block production keep their latency while the node ingests transactions.
import {
  ChainError,
  type ChainErrorType,
  recoverTransaction,
  type SignedTransaction,
  TxError,
  type TxErrorType,
} from "@rustchain/shared";

export type RecoveryResult =
  | { ok: true; stx: SignedTransaction }
  | { ok: false; kind: "tx"; type: TxErrorType }
  | { ok: false; kind: "chain"; type: ChainErrorType };

export function recoverBatch(raws: Uint8Array[]): RecoveryResult[] {
  return raws.map((raw) => {
    try {
      return { ok: true, stx: recoverTransaction(raw) };
    } catch (e) {
      if (e instanceof TxError) return { ok: false, kind: "tx", type: e.type };
      if (e instanceof ChainError) return { ok: false, kind: "chain", type: e.type };
      throw e;
    }
  });
}

export default recoverBatch;
