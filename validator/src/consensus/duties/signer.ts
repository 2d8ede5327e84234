// Everything a validator signs goes through a ValidatorSigner: the local one holds the BLS key and the slashing
// protection database in this process; a remote one (signer/remoteSigner.ts) asks an EIP-3030-style signer service
// that holds both. Either way a slashable request is refused before anything is signed (SlashingProtectionError).
import { blsSign } from "@rustchain/shared";
import type { SlashingProtection } from "../validatorDuties/slashingProtection.ts";

export interface ValidatorSigner {
  readonly publicKey: Uint8Array;
  /** A VRF proof: the BLS signature over the VRF input (not slashable; nothing recorded). */
  vrf(input: Uint8Array): Promise<Uint8Array>;
  /** A block of `slot` with this signing root; refused if another block of that slot was signed. */
  block(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array>;
  /** An attestation (half-slot grid epochs as in slashingProtection.ts); refused on a double or surround vote. */
  attestation(vote: { sourceSlot: bigint; targetSlot: bigint; signingRoot: Uint8Array }): Promise<Uint8Array>;
  /** A finalize vote for the checkpoint of `slot`; refused on a double finalize or a finalize-surround. */
  finalizeVote(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array>;
}

/** The key and its slashing protection in this process. */
export class LocalSigner implements ValidatorSigner {
  constructor(
    private readonly secretKey: Uint8Array,
    readonly publicKey: Uint8Array,
    private readonly protection: SlashingProtection,
  ) {}

  async vrf(input: Uint8Array): Promise<Uint8Array> {
    return blsSign(this.secretKey, input);
  }

  async block(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array> {
    await this.protection.checkAndRecordBlock(this.publicKey, slot, signingRoot);
    return blsSign(this.secretKey, signingRoot);
  }

  async attestation(vote: { sourceSlot: bigint; targetSlot: bigint; signingRoot: Uint8Array }): Promise<Uint8Array> {
    await this.protection.checkAndRecordAttestation(this.publicKey, vote);
    return blsSign(this.secretKey, vote.signingRoot);
  }

  async finalizeVote(slot: bigint, signingRoot: Uint8Array): Promise<Uint8Array> {
    await this.protection.checkAndRecordFinalizeVote(this.publicKey, { slot, signingRoot });
    return blsSign(this.secretKey, signingRoot);
  }
}
