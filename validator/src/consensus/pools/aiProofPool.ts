// Verified Proof-of-AI proofs waiting for a block, one per miner and epoch. A proof is includable in its epoch and
// the next one only; older ones are pruned. Bounded by `maxPooled`.
import { bytesToHex, equalBytes } from "@rustchain/shared";
import type { AiProof } from "../ai/proof.ts";

export interface PooledAiProof {
  readonly proof: AiProof;
  readonly encoded: Uint8Array;
}

export class AiProofPool {
  private readonly pool = new Map<string, PooledAiProof>();

  constructor(private readonly opts: { maxPooled: number }) {}

  get size(): number {
    return this.pool.size;
  }

  private static key(miner: Uint8Array, epoch: bigint): string {
    return `${bytesToHex(miner)}:${epoch}`;
  }

  /** The pooled proof of `miner` for `epoch`, if any. */
  get(miner: Uint8Array, epoch: bigint): PooledAiProof | undefined {
    return this.pool.get(AiProofPool.key(miner, epoch));
  }

  /** Whether exactly these bytes are pooled for the proof's miner and epoch. */
  hasExactly(proof: AiProof, encoded: Uint8Array): boolean {
    const pooled = this.get(proof.miner, proof.epoch);
    return pooled !== undefined && equalBytes(pooled.encoded, encoded);
  }

  add(proof: AiProof, encoded: Uint8Array): "added" | "known" | "full" {
    const key = AiProofPool.key(proof.miner, proof.epoch);
    if (this.pool.has(key)) return "known";
    if (this.pool.size >= this.opts.maxPooled) return "full";
    this.pool.set(key, { proof, encoded });
    return "added";
  }

  delete(p: PooledAiProof): void {
    this.pool.delete(AiProofPool.key(p.proof.miner, p.proof.epoch));
  }

  /** Drops proofs that can no longer be included at `epoch` (older than the previous epoch). */
  prune(epoch: bigint): void {
    for (const [k, p] of this.pool) if (p.proof.epoch + 1n < epoch) this.pool.delete(k);
  }

  values(): PooledAiProof[] {
    return [...this.pool.values()];
  }
}
