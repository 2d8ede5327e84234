// The proposer rule of a block header, one copy for gossip validation and for import (docs/consensus.md, "Slots and
// proposers"): the header's VRF claim is well-formed, and the proposer is eligible for the slot under the epoch seed
// of its chain and the weights at its parent's state, or is the slot's weighted fallback pick when it says so.
import type { BlockHeader } from "@rustchain/shared";
import { type ChainView, parseVrfClaim } from "../chainView.ts";
import { ConsensusBlockError } from "../errors.ts";
import { ElectionError, verifyProposerElection } from "./vrfElection.ts";

export async function checkProposerElection(
  header: BlockHeader,
  parent: BlockHeader,
  view: ChainView,
  chainId: bigint,
): Promise<void> {
  const claim = parseVrfClaim(header.vrfProof);
  if (!claim) throw new ConsensusBlockError({ code: "BLOCK_VRF_MALFORMED" });
  const seed = await view.seed(view.epochOf(header.slot), header.parentHash);
  const validators = await view.validatorsAt(parent);
  try {
    verifyProposerElection(
      { proposerIndex: Number(header.proposerIndex), vrfProof: claim.proof, fallback: claim.fallback },
      {
        chainId,
        seed,
        slot: header.slot,
        validators: validators.map((v) => ({ pubkey: v.pubkey, weight: v.weight })),
        expectedLeadersPerSlot: view.genesis.params.expectedLeadersPerSlot,
      },
    );
  } catch (e) {
    if (e instanceof ElectionError)
      throw new ConsensusBlockError({ code: "BLOCK_PROPOSER_NOT_ELECTED", reason: e.type.code });
    throw e;
  }
}
