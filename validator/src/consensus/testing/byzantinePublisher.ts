// TEST ONLY: a publisher that makes its validator byzantine, for the slashing tests (`rustchain node --byzantine`,
// refused unless RUSTCHAIN_ALLOW_BYZANTINE=1). Everything the honest duties publish goes out, followed by a signed
// twin that conflicts with it: a second block for the slot (double proposal), a second attestation for the target
// slot with another head (double vote) and a finalize vote for another block of the slot (double finalize vote).
// The consensus code itself has no byzantine mode; only this wrapper around its publisher does.
import {
  type Block,
  blake3,
  blockHash,
  blsSign,
  bytesToHex,
  concatBytes,
  decodeBlock,
  encodeBlock,
  hexToBytes,
} from "@rustchain/shared";
import type { Logger } from "pino";
import { blockSigningRoot } from "../../chain/chain.ts";
import type { GossipTopicName } from "../../network/topics.ts";
import type { GossipPublisher } from "../duties/types.ts";
import {
  decodeSignedAttestation,
  decodeSignedFinalizeVote,
  encodeSignedAttestation,
  encodeSignedFinalizeVote,
  signAttestation,
  signFinalizeVote,
} from "../messages/attestation.ts";

/** What a byzantine validator equivocates on: its blocks, its attestations, its finalize votes. */
export const BYZANTINE_KINDS = ["blocks", "attestations", "finalize_votes"] as const;
export type ByzantineKind = (typeof BYZANTINE_KINDS)[number];

export function byzantinePublisher(
  inner: GossipPublisher,
  key: { secretKey: Uint8Array; index: number; chainId: bigint },
  kinds: ReadonlySet<ByzantineKind>,
  logger: Logger,
): GossipPublisher {
  const other = (root: string) => bytesToHex(blake3(concatBytes(hexToBytes(root), Uint8Array.of(1))));
  const twinOf = (topic: GossipTopicName, data: Uint8Array): Uint8Array | undefined => {
    if (topic === "blocks") {
      const block = decodeBlock(data);
      const h = { ...block.header, extraData: new TextEncoder().encode("equivocation") };
      h.signature = blsSign(key.secretKey, blockSigningRoot(key.chainId, blockHash(h)));
      logger.warn({ slot: Number(h.slot) }, "BYZANTINE TEST MODE: publishing a conflicting block");
      const twin: Block = { ...block, header: h };
      return encodeBlock(twin);
    }
    if (topic === "attestations") {
      const att = decodeSignedAttestation(data);
      const data2 = { ...att.data, headRoot: other(att.data.headRoot) };
      logger.warn({ slot: data2.slot }, "BYZANTINE TEST MODE: publishing a conflicting attestation");
      return encodeSignedAttestation(signAttestation(key.secretKey, key.chainId, key.index, data2));
    }
    if (topic === "finalize_votes") {
      const vote = decodeSignedFinalizeVote(data);
      const cp = { slot: vote.checkpoint.slot, root: other(vote.checkpoint.root) };
      logger.warn({ slot: cp.slot }, "BYZANTINE TEST MODE: publishing a conflicting finalize vote");
      return encodeSignedFinalizeVote(signFinalizeVote(key.secretKey, key.chainId, key.index, cp));
    }
    return undefined;
  };
  return {
    async publish(topic, data) {
      const sent = await inner.publish(topic, data);
      const twin = (kinds as ReadonlySet<string>).has(topic) ? twinOf(topic, data) : undefined;
      if (twin) await inner.publish(topic, twin).catch(() => {});
      return sent;
    },
  };
}
