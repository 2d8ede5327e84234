// Signing and verifying votes on this node: the wire formats and signing roots are shared/src/consensus/votes.ts
// (where the finality-certificate verifier reads them too); here they are bound to the node's BLAKE3 and to blst.
import { blake3, blsFastAggregateVerify, blsSign, blsVerify } from "@rustchain/shared";
import type { AttestationData, Checkpoint } from "@rustchain/shared/consensus/checkpoint";
import {
  type AggregateAttestation,
  attestationSigningRoot as attestationRootWith,
  checkAttestationData,
  checkValidatorIndex,
  type FinalizeAggregate,
  finalizeSigningRoot as finalizeRootWith,
  participantsIn,
  type SignedAttestation,
  type SignedFinalizeVote,
} from "@rustchain/shared/consensus/votes";

export { MessageError } from "@rustchain/shared/consensus/errors";
export * from "@rustchain/shared/consensus/votes";

/** What a validator signs for `data` on chain `chainId`. Throws MESSAGE_MALFORMED for non-canonical data. */
export function attestationSigningRoot(chainId: bigint, data: AttestationData): Uint8Array {
  return attestationRootWith(blake3, chainId, data);
}

/** What a validator signs to vote `checkpoint` final on chain `chainId`. */
export function finalizeSigningRoot(chainId: bigint, checkpoint: Checkpoint): Uint8Array {
  return finalizeRootWith(blake3, chainId, checkpoint);
}

/**
 * Sign `data` as validator `validatorIndex`. Refuses data that no peer would accept (an invalid FFG link), so a
 * validator never signs a message it cannot publish. Slashing protection must have approved `data` before this.
 */
/** An attestation with a signature made elsewhere (a ValidatorSigner); the data is checked as signAttestation does. */
export function signedAttestation(
  validatorIndex: number,
  data: AttestationData,
  signature: Uint8Array,
): SignedAttestation {
  checkValidatorIndex(validatorIndex);
  checkAttestationData(data);
  return { validatorIndex, data, signature };
}

export function signedFinalizeVote(
  validatorIndex: number,
  checkpoint: Checkpoint,
  signature: Uint8Array,
): SignedFinalizeVote {
  checkValidatorIndex(validatorIndex);
  return { validatorIndex, checkpoint, signature };
}

export function signAttestation(
  secretKey: Uint8Array,
  chainId: bigint,
  validatorIndex: number,
  data: AttestationData,
): SignedAttestation {
  checkValidatorIndex(validatorIndex);
  checkAttestationData(data);
  return { validatorIndex, data, signature: blsSign(secretKey, attestationSigningRoot(chainId, data)) };
}

/** Sign a finalize vote for `checkpoint`; slashing protection must have approved it before this. */
export function signFinalizeVote(
  secretKey: Uint8Array,
  chainId: bigint,
  validatorIndex: number,
  checkpoint: Checkpoint,
): SignedFinalizeVote {
  checkValidatorIndex(validatorIndex);
  return { validatorIndex, checkpoint, signature: blsSign(secretKey, finalizeSigningRoot(chainId, checkpoint)) };
}

/** The signature is `pubkey`'s over this attestation on chain `chainId`. Malformed input verifies as false. */
export function verifySignedAttestation(att: SignedAttestation, chainId: bigint, pubkey: Uint8Array): boolean {
  let root: Uint8Array;
  try {
    checkAttestationData(att.data);
    root = attestationSigningRoot(chainId, att.data);
  } catch {
    return false;
  }
  return blsVerify(pubkey, root, att.signature);
}

/** The signature is `pubkey`'s over this finalize vote on chain `chainId`. Malformed input verifies as false. */
export function verifySignedFinalizeVote(vote: SignedFinalizeVote, chainId: bigint, pubkey: Uint8Array): boolean {
  let root: Uint8Array;
  try {
    root = finalizeSigningRoot(chainId, vote.checkpoint);
  } catch {
    return false;
  }
  return blsVerify(pubkey, root, vote.signature);
}

/**
 * The aggregate signature is the participants' over `agg.data` on chain `chainId`, where participant i has public key
 * `pubkeys[i]`. False when the bitfield does not have exactly ceil(pubkeys.length / 8) bytes, has a bit beyond the
 * validator set, has no participant, or anything is malformed.
 */
export function verifyAggregate(agg: AggregateAttestation, chainId: bigint, pubkeys: readonly Uint8Array[]): boolean {
  return verifyParticipants(agg.bits, agg.signature, pubkeys, () => {
    checkAttestationData(agg.data);
    return attestationSigningRoot(chainId, agg.data);
  });
}

/** As verifyAggregate, for an aggregate of finalize votes. */
export function verifyFinalizeAggregate(
  agg: FinalizeAggregate,
  chainId: bigint,
  pubkeys: readonly Uint8Array[],
): boolean {
  return verifyParticipants(agg.bits, agg.signature, pubkeys, () => finalizeSigningRoot(chainId, agg.checkpoint));
}

/** One fast-aggregate verification of `signature` by the participants of `bits` over the root `signingRoot` gives. */
function verifyParticipants(
  bits: Uint8Array,
  signature: Uint8Array,
  pubkeys: readonly Uint8Array[],
  signingRoot: () => Uint8Array,
): boolean {
  const participants = participantsIn(bits, pubkeys.length);
  if (participants === undefined) return false;
  let root: Uint8Array;
  try {
    root = signingRoot();
  } catch {
    return false;
  }
  return blsFastAggregateVerify(
    participants.map((i) => pubkeys[i] as Uint8Array),
    root,
    signature,
  );
}
