// Gossip validation of Proof-of-AI proofs: chains without the task IGNORE them; undecodable bytes are REJECTed; proofs
// outside {previous, current} epoch are IGNOREd; the exact pooled bytes are IGNOREd before any verification; a proof
// that does not verify is REJECTed even when another proof is pooled for its miner and epoch (a forged variant), while
// a valid different proof for a pooled miner and epoch, or any proof at a full pool, is IGNOREd. The stub's `verify`
// decides validity (no Groth16 here: ai/poai.test.ts covers the real verifier); the pool is the real AiProofPool.
import { concatBytes, rlpEncode } from "@rustchain/shared";
import { describe, expect, it } from "vitest";
import { GossipValidationError } from "../../network/errors.ts";
import { type AiProof, encodeAiProof } from "../ai/proof.ts";
import { AiProofPool } from "../pools/aiProofPool.ts";
import { type AiProofGossipContext, validateGossipAiProof } from "./aiProof.ts";

const EPOCH = 10n;
const MINER_A = new Uint8Array(20).fill(0xa1);
const MINER_B = new Uint8Array(20).fill(0xb2);

/** A well-formed proof; the stub verifier accepts it when its first proof byte is 1. */
function proof(o: { epoch?: bigint; miner?: Uint8Array; valid?: boolean; variant?: number } = {}): AiProof {
  const p = new Uint8Array(256).fill(o.variant ?? 7);
  p[0] = (o.valid ?? true) ? 1 : 0;
  return { epoch: o.epoch ?? EPOCH, miner: o.miner ?? MINER_A, output: Int8Array.of(3, -4, 127, -128), proof: p };
}

interface Harness {
  ctx: AiProofGossipContext;
  pool: AiProofPool;
  /** Proofs the stub verifier was asked about, in order. */
  verified: AiProof[];
}

function harness(o: { enabled?: boolean; epoch?: bigint; maxPooled?: number } = {}): Harness {
  const pool = new AiProofPool({ maxPooled: o.maxPooled ?? 16 });
  const verified: AiProof[] = [];
  const ctx: AiProofGossipContext = {
    enabled: o.enabled ?? true,
    currentEpoch: () => o.epoch ?? EPOCH,
    isKnownExactly: (p, data) => pool.hasExactly(p, data),
    hasProofFor: (p) => pool.get(p.miner, p.epoch) !== undefined,
    poolFull: () => pool.size >= (o.maxPooled ?? 16),
    verify: async (p) => {
      verified.push(p);
      if (p.proof[0] !== 1) throw new Error("does not verify");
    },
  };
  return { ctx, pool, verified };
}

async function verdict(h: Harness, bytes: Uint8Array): Promise<string> {
  try {
    await validateGossipAiProof(h.ctx, bytes);
    return "accept";
  } catch (e) {
    expect(e).toBeInstanceOf(GossipValidationError);
    const err = e as GossipValidationError;
    return `${err.action} ${err.type.code}`;
  }
}

/** Pools `p` as the node does after accepting it. */
function pooled(h: Harness, p: AiProof): Uint8Array {
  const bytes = encodeAiProof(p);
  expect(h.pool.add(p, bytes)).toBe("added");
  return bytes;
}

describe("validateGossipAiProof", () => {
  it("accepts a valid proof and returns it decoded", async () => {
    const h = harness();
    const p = proof();
    const out = await validateGossipAiProof(h.ctx, encodeAiProof(p));
    expect(out).toEqual(p);
    expect(h.verified).toHaveLength(1);
  });

  it("IGNORE AI_DISABLED on a chain without the task, whatever the bytes", async () => {
    const h = harness({ enabled: false });
    expect(await verdict(h, encodeAiProof(proof()))).toBe("IGNORE AI_DISABLED");
    expect(await verdict(h, Uint8Array.of(1, 2, 3))).toBe("IGNORE AI_DISABLED");
    expect(h.verified).toEqual([]);
  });

  it("REJECT AI_PROOF_MALFORMED: random bytes, truncated, extended, a short proof, a non-canonical epoch", async () => {
    const h = harness();
    const valid = encodeAiProof(proof());
    expect(
      await verdict(
        h,
        Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 5) & 0xff),
      ),
    ).toBe("REJECT AI_PROOF_MALFORMED");
    expect(await verdict(h, new Uint8Array(0))).toBe("REJECT AI_PROOF_MALFORMED");
    expect(await verdict(h, valid.subarray(0, valid.length - 1))).toBe("REJECT AI_PROOF_MALFORMED");
    expect(await verdict(h, concatBytes(valid, Uint8Array.of(0)))).toBe("REJECT AI_PROOF_MALFORMED");
    const p = proof();
    const out = new Uint8Array(p.output.buffer);
    expect(rlpEncode([p.epoch, p.miner, out, p.proof])).toEqual(valid);
    expect(await verdict(h, rlpEncode([p.epoch, p.miner, out, p.proof.subarray(1)]))).toBe("REJECT AI_PROOF_MALFORMED");
    expect(await verdict(h, rlpEncode([p.epoch, p.miner.subarray(1), out, p.proof]))).toBe("REJECT AI_PROOF_MALFORMED");
    expect(await verdict(h, rlpEncode([Uint8Array.of(0, 10), p.miner, out, p.proof]))).toBe(
      "REJECT AI_PROOF_MALFORMED",
    );
    expect(h.verified).toEqual([]);
  });

  it("IGNORE AI_PROOF_EPOCH for a future epoch or one before the previous; current and previous are accepted", async () => {
    const h = harness();
    expect(await verdict(h, encodeAiProof(proof({ epoch: EPOCH + 1n })))).toBe("IGNORE AI_PROOF_EPOCH");
    expect(await verdict(h, encodeAiProof(proof({ epoch: EPOCH - 2n })))).toBe("IGNORE AI_PROOF_EPOCH");
    expect(await verdict(h, encodeAiProof(proof({ epoch: 0n })))).toBe("IGNORE AI_PROOF_EPOCH");
    expect(h.verified).toEqual([]);
    expect(await verdict(h, encodeAiProof(proof({ epoch: EPOCH - 1n })))).toBe("accept");
    expect(await verdict(h, encodeAiProof(proof({ epoch: EPOCH })))).toBe("accept");
    // At epoch 0 there is no previous epoch: epoch 0 is accepted, epoch 1 is in the future.
    const first = harness({ epoch: 0n });
    expect(await verdict(first, encodeAiProof(proof({ epoch: 0n })))).toBe("accept");
    expect(await verdict(first, encodeAiProof(proof({ epoch: 1n })))).toBe("IGNORE AI_PROOF_EPOCH");
  });

  it("IGNORE AI_PROOF_KNOWN for exactly the pooled bytes, without verifying them again", async () => {
    const h = harness();
    const bytes = pooled(h, proof());
    expect(await verdict(h, bytes)).toBe("IGNORE AI_PROOF_KNOWN");
    expect(h.verified).toEqual([]);
  });

  it("REJECT AI_PROOF_INVALID when verify throws, even when another proof is pooled for that miner and epoch", async () => {
    const h = harness();
    expect(await verdict(h, encodeAiProof(proof({ valid: false })))).toBe("REJECT AI_PROOF_INVALID");
    pooled(h, proof());
    // A forged variant of the pooled proof: same miner and epoch, different bytes that do not verify.
    const forged = proof({ valid: false, variant: 9 });
    expect(await verdict(h, encodeAiProof(forged))).toBe("REJECT AI_PROOF_INVALID");
    expect(h.verified.map((p) => p.proof[1])).toEqual([7, 9]);
  });

  it("IGNORE AI_PROOF_KNOWN for a valid different proof when one is pooled for that miner and epoch", async () => {
    const h = harness();
    pooled(h, proof());
    const other = proof({ variant: 8 });
    expect(await verdict(h, encodeAiProof(other))).toBe("IGNORE AI_PROOF_KNOWN");
    expect(h.verified).toHaveLength(1);
    // Another miner, or the same miner in another epoch, is not known.
    expect(await verdict(h, encodeAiProof(proof({ miner: MINER_B })))).toBe("accept");
    expect(await verdict(h, encodeAiProof(proof({ epoch: EPOCH - 1n })))).toBe("accept");
  });

  it("IGNORE AI_POOL_FULL for a new valid proof at a full pool; an invalid one is still REJECTed", async () => {
    const h = harness({ maxPooled: 1 });
    pooled(h, proof({ miner: MINER_B }));
    expect(await verdict(h, encodeAiProof(proof()))).toBe("IGNORE AI_POOL_FULL");
    expect(await verdict(h, encodeAiProof(proof({ valid: false })))).toBe("REJECT AI_PROOF_INVALID");
    expect(await verdict(h, encodeAiProof(proof({ miner: MINER_B, variant: 8 })))).toBe("IGNORE AI_PROOF_KNOWN");
  });
});
