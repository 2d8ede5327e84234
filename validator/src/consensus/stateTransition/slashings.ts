// Slashing evidence carried by a block: each piece decodes, proves an offence (evidence.ts), appears once, and names a
// validator not yet slashed. Effect: the offender loses half its stake (burned) and all its weight.
import { bytesToBigint } from "@rustchain/shared";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, u256 } from "../../chain/validatorRegistry.ts";
import type { WorldState } from "../../state/stateDb.ts";
import { ConsensusBlockError } from "../errors.ts";
import { decodeEvidence, type Evidence, evidenceId, verifyEvidence } from "../messages/evidence.ts";
import type { TransitionContext } from "./index.ts";

export async function applySlashings(
  ws: WorldState,
  encoded: readonly Uint8Array[],
  ctx: TransitionContext,
): Promise<number[]> {
  const limit = ctx.limits.maxEvidencePerBlock;
  // Rule: at most maxEvidencePerBlock pieces of evidence.
  if (encoded.length > limit) {
    throw new ConsensusBlockError({ code: "BLOCK_TOO_MANY_ITEMS", kind: "evidence", count: encoded.length, limit });
  }
  const pubkeys = ctx.genesis.validators.map((v) => v.blsPublicKey);
  const seen = new Set<string>();
  const slashed: number[] = [];
  for (const [index, enc] of encoded.entries()) {
    let ev: Evidence;
    try {
      ev = decodeEvidence(enc);
    } catch (e) {
      throw new ConsensusBlockError({
        code: "BLOCK_ITEM_MALFORMED",
        kind: "evidence",
        index,
        reason: (e as Error).message,
      });
    }
    // Rule: each offence at most once per block.
    const id = evidenceId(ev);
    if (seen.has(id)) throw new ConsensusBlockError({ code: "BLOCK_EVIDENCE_DUPLICATE", index });
    seen.add(id);
    // Rule: the evidence proves a slashable offence with valid signatures.
    let offender: number;
    try {
      offender = verifyEvidence(ev, { chainId: ctx.chainId, pubkeyOf: (i) => pubkeys[i] }).offender;
    } catch (e) {
      throw new ConsensusBlockError({ code: "BLOCK_EVIDENCE_INVALID", index, reason: (e as Error).message });
    }
    // Rule: a validator is slashed once.
    const slashedSlot = registrySlot(offender, RegistryField.slashed);
    if (bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, slashedSlot)) !== 0n) {
      throw new ConsensusBlockError({ code: "BLOCK_OFFENDER_ALREADY_SLASHED", index, offender });
    }
    // Rule: a slashed validator loses half its stake (burned) and all its weight.
    const stakeSlot = registrySlot(offender, RegistryField.stake);
    const stake = bytesToBigint(await ws.getStorage(REGISTRY_ADDRESS, stakeSlot));
    await ws.setStorage(REGISTRY_ADDRESS, stakeSlot, u256(stake / 2n));
    await ws.setStorage(REGISTRY_ADDRESS, slashedSlot, u256(1n));
    slashed.push(offender);
  }
  return slashed;
}
