// Worker-thread body for sender recovery: decode, hash and recover a batch of raw transactions. Runs off the main
// event loop so RPC and block production keep their latency while the node ingests transactions.
// Only the modules recovery needs (not the package index): each thread loads them through the TypeScript loader.
import { ChainError, type ChainErrorType, TxError, type TxErrorType } from "@rustchain/shared/errors";
import { recoverTransaction, type SignedTransaction } from "@rustchain/shared/transaction";

export type RecoveryResult =
  | { ok: true; stx: SignedTransaction }
  | { ok: false; kind: "tx"; type: TxErrorType }
  | { ok: false; kind: "chain"; type: ChainErrorType };

/**
 * Move every byte field of the recovered transactions into one buffer (the fields become views of it). Structured
 * cloning copies that buffer once, so the main thread rebuilds a chunk's results with one allocation instead of one
 * ArrayBuffer per field (six or more per transaction): handing results back was a tenth of the node's main thread
 * under load.
 */
function packByteFields(results: RecoveryResult[]): void {
  let size = 0;
  for (const r of results) {
    if (!r.ok) continue;
    const { raw, hash, from, tx } = r.stx;
    size += raw.length + hash.length + from.length + (tx.to?.length ?? 0) + tx.data.length;
    for (const item of tx.accessList) size += item.address.length + 32 * item.storageKeys.length;
  }
  const buf = new Uint8Array(size);
  let pos = 0;
  const put = (b: Uint8Array): Uint8Array => {
    const view = buf.subarray(pos, pos + b.length);
    view.set(b);
    pos += b.length;
    return view;
  };
  for (const r of results) {
    if (!r.ok) continue;
    const stx = r.stx;
    stx.raw = put(stx.raw);
    stx.hash = put(stx.hash);
    stx.from = put(stx.from);
    if (stx.tx.to) stx.tx.to = put(stx.tx.to);
    stx.tx.data = put(stx.tx.data);
    stx.tx.accessList = stx.tx.accessList.map((item) => ({
      address: put(item.address),
      storageKeys: item.storageKeys.map(put),
    }));
  }
}

/** A chunk of raw transactions in one buffer, transaction i ending at ends[i] (one copy to send, not one each). */
export interface PackedRaws {
  bytes: Uint8Array;
  ends: Uint32Array;
}

export function packRaws(raws: Uint8Array[]): PackedRaws {
  const ends = new Uint32Array(raws.length);
  let size = 0;
  raws.forEach((r, i) => {
    size += r.length;
    ends[i] = size;
  });
  const bytes = new Uint8Array(size);
  raws.forEach((r, i) => {
    bytes.set(r, (ends[i] as number) - r.length);
  });
  return { bytes, ends };
}

/** Recover a chunk in a worker: results with their byte fields packed into one buffer. */
export function recoverChunk({ bytes, ends }: PackedRaws): RecoveryResult[] {
  const raws = Array.from(ends, (end, i) => bytes.subarray(i === 0 ? 0 : (ends[i - 1] as number), end));
  const results = recoverBatch(raws);
  packByteFields(results);
  return results;
}

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

export default recoverChunk;

/**
 * Hold this thread for `ms` (a task that only proves the thread finished loading its modules; see the pool's close
 * in senderRecovery.ts).
 */
export function hold(ms: number): true {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(Math.max(ms, 0), 1000));
  return true;
}
