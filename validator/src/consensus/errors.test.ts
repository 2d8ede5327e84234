// Whose fault a failed block import is decides whether the peer that served the block is penalised: a block that
// breaks a rule is the sender's; one that only arrived late, twice, before its parent, or on a branch our finality
// already excludes is nobody's (the sender may simply not know our finalized checkpoint yet: banning it would cut us
// off from the peers that can tell us); another chain than our checkpoint's gets the sender banned.
import { describe, expect, it } from "vitest";
import { BlockError } from "../chain/errors.ts";
import { blockImportFault, ConsensusBlockError } from "./errors.ts";

describe("blockImportFault", () => {
  it("blames the sender for rule breaks, nobody for races, and bans another chain", () => {
    const cases: [unknown, string][] = [
      [new ConsensusBlockError({ code: "BLOCK_PROPOSER_NOT_ELECTED", reason: "x" }), "invalid"],
      [new ConsensusBlockError({ code: "BLOCK_ATTESTATION_BAD_SIGNATURE", index: 0 }), "invalid"],
      [new BlockError({ code: "BLOCK_STATE_ROOT_MISMATCH" }), "invalid"],
      [new BlockError({ code: "BLOCK_INVALID_SIGNATURE" }), "invalid"],
      [new ConsensusBlockError({ code: "BLOCK_PARENT_NOT_ON_FINALIZED_CHAIN" }), "race"],
      [new ConsensusBlockError({ code: "BLOCK_BEFORE_FINALIZED", slot: 3n }), "race"],
      [new BlockError({ code: "BLOCK_ALREADY_KNOWN", hash: "0x" }), "race"],
      [new BlockError({ code: "BLOCK_UNKNOWN_PARENT", parentHash: "0x" }), "race"],
      [new BlockError({ code: "BLOCK_CONFLICTS_CHECKPOINT", number: 1n, expected: "0x" }), "irrelevant"],
      [new BlockError({ code: "GENESIS_MISMATCH", stored: "0x", computed: "0x" }), "ours"],
      [new Error("disk full"), "ours"],
    ];
    for (const [e, fault] of cases) expect(blockImportFault(e).fault, (e as Error).message).toBe(fault);
  });
});
