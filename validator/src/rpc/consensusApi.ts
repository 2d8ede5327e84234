// The `rustchain_` namespace's consensus views (docs/consensus.md, "RPC"): finality status, the validator set, AI
// scores and finality certificates, read from consensus state and the checkpoint store.

import { bytesToHex, hexToBytes, toQuantity } from "@rustchain/shared";
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { CID } from "multiformats/cid";
import type { Chain } from "../chain/chain.ts";
import type { ChainView } from "../consensus/chainView.ts";
import type { ConsensusState } from "../consensus/consensusState.ts";
import type { ConsensusEngine } from "../consensus/engine.ts";
import type { CheckpointStore } from "../db/checkpointStore.ts";
import type { ConsensusRpc } from "./ethApi.ts";

export function createConsensusRpc(modules: {
  chain: Chain;
  view: ChainView;
  state: ConsensusState;
  engine: ConsensusEngine;
  checkpoints: CheckpointStore;
  peerCount(): number;
}): ConsensusRpc {
  const { chain, view, state, engine, checkpoints } = modules;
  const q = toQuantity;
  return {
    safeNumber: () => state.justifiedNumber,
    finalizedNumber: () => state.finalizedNumber,
    peerCount: () => modules.peerCount(),

    async finalityStatus() {
      const s = await engine.status();
      return {
        currentSlot: q(s.currentSlot),
        headSlot: q(s.headSlot),
        headNumber: q(chain.head.number),
        headHash: bytesToHex(chain.headHash),
        justified: { slot: q(s.justified.slot), number: q(s.justified.number), hash: s.justified.root },
        finalized: { slot: q(s.finalized.slot), number: q(s.finalized.number), hash: s.finalized.root },
        finalityLagSlots: s.currentSlot - s.finalized.slot,
      };
    },

    async validators() {
      const set = await view.validatorsAt(chain.head);
      return set.map((v, i) => ({
        index: i,
        publicKey: bytesToHex(v.pubkey),
        feeRecipient: bytesToHex(chain.genesis.validators[i]!.feeRecipient),
        stake: q(v.record.stake),
        aiScoreBps: v.record.aiScoreBps,
        slashed: v.record.slashed,
        weight: q(v.weight),
        // The same weight elects proposers and weighs votes (kept under its old name for existing clients).
        proposerWeight: q(v.weight),
      }));
    },

    async aiScores() {
      const set = await view.validatorsAt(chain.head);
      const ai = chain.genesis.ai;
      return {
        enabled: ai !== undefined,
        model: ai ? { cid: CID.decode(ai.modelCid).toString(), inputs: ai.inputs, outputs: ai.outputs } : null,
        epoch: q(view.epochOf(engine.currentSlot())),
        validators: set.map((v, i) => ({
          index: i,
          feeRecipient: bytesToHex(chain.genesis.validators[i]!.feeRecipient),
          aiScoreBps: v.record.aiScoreBps,
        })),
      };
    },

    async finalityCertificates(fromSlot: bigint, count: number) {
      if (fromSlot > BigInt(Number.MAX_SAFE_INTEGER)) return [];
      return (await checkpoints.certificatesFrom(Number(fromSlot), count)).map((c) => bytesToHex(c.encoded));
    },

    async finalityCertificate(number: bigint) {
      // Only blocks at or below the finalized one are final; the covering certificate proves them.
      if (number > state.finalizedNumber) return null;
      const stored = await checkpoints.certificateCovering(number);
      if (!stored) return null;
      const cert = decodeFinalityCertificate(stored.encoded);
      const parentHeader = await view.header(hexToBytes(cert.parent.root));
      return {
        checkpoint: { slot: q(cert.checkpoint.slot), hash: cert.checkpoint.root, number: q(cert.header.number) },
        parent: {
          slot: q(cert.parent.slot),
          hash: cert.parent.root,
          number: parentHeader ? q(parentHeader.number) : null,
        },
        kind: cert.kind,
        aggregates: cert.aggregates.length,
        certificate: bytesToHex(stored.encoded),
      };
    },
  };
}
