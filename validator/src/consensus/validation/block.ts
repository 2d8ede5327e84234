// Gossip validation of blocks: the cheap checks only. The block is imported (executed, roots checked) after it is
// accepted, outside gossipsub's callback; an import failure then costs the sender its score (node/gossip.ts).
import { type Block, blockHash, blsVerify, decodeBlock, equalBytes } from "@rustchain/shared";
import { blockSigningRoot } from "../../chain/chain.ts";
import { GossipValidationError } from "../../network/errors.ts";
import { checkProposerElection } from "../election/proposerCheck.ts";
import { ConsensusBlockError } from "../errors.ts";
import type { BlockGossipContext } from "./context.ts";

export async function validateGossipBlock(ctx: BlockGossipContext, data: Uint8Array): Promise<Block> {
  let block: Block;
  try {
    block = decodeBlock(data);
  } catch {
    // Rule: a message on the blocks topic is one canonical block encoding.
    throw new GossipValidationError("REJECT", { code: "BLOCK_MALFORMED" });
  }
  const h = block.header;
  // Rule: no block from beyond the clock (plus tolerance for skew).
  if (h.slot > ctx.currentSlot() + BigInt(ctx.futureSlotTolerance)) {
    throw new GossipValidationError("REJECT", { code: "BLOCK_FUTURE_SLOT" });
  }
  // Rule: nothing at or before the finalized slot can change the chain (not the sender's fault: it may lag).
  if (Number(h.slot) <= ctx.finalizedSlot())
    throw new GossipValidationError("IGNORE", { code: "BLOCK_FINALIZED_SLOT" });
  const hash = blockHash(h);
  if (await ctx.hasBlock(hash)) throw new GossipValidationError("IGNORE", { code: "BLOCK_ALREADY_KNOWN" });
  // Rule: the proposer is a validator of the set and the block pays its registered fee recipient.
  const pubkey = ctx.pubkeyOf(Number(h.proposerIndex));
  const recipient = ctx.feeRecipientOf(Number(h.proposerIndex));
  if (!pubkey || !recipient || !equalBytes(recipient, h.coinbase)) {
    throw new GossipValidationError("REJECT", { code: "BLOCK_INVALID_PROPOSER" });
  }
  // Rule: the proposer's BLS signature covers the block hash under this chain's domain.
  if (!blsVerify(pubkey, blockSigningRoot(ctx.chainId, hash), h.signature)) {
    throw new GossipValidationError("REJECT", { code: "BLOCK_INVALID_SIGNATURE" });
  }
  // Rule: the parent is known (else we lack blocks: the caller asks the sender for them).
  const parent = await ctx.header(h.parentHash);
  if (!parent) throw new GossipValidationError("IGNORE", { code: "BLOCK_UNKNOWN_PARENT" });
  // Rule: the parent is on our finalized chain (a block on another branch is one our finality already excludes: the
  // sender may not know our finalized checkpoint yet, so it is not its fault).
  if (!ctx.onFinalizedChain(h.parentHash)) {
    throw new GossipValidationError("IGNORE", { code: "BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN" });
  }
  // Rule: the slot is after the parent's.
  if (h.slot <= parent.slot) throw new GossipValidationError("REJECT", { code: "BLOCK_INVALID_SLOT" });
  // Rule: the proposer was elected for the slot on this chain (VRF under the epoch seed, weights at the parent).
  try {
    await checkProposerElection(h, parent, ctx.view, ctx.chainId);
  } catch (e) {
    if (e instanceof ConsensusBlockError) throw new GossipValidationError("REJECT", { code: e.type.code });
    throw e;
  }
  return block;
}
