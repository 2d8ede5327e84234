// The standalone finality-certificate verifier (docs/consensus.md, "Finality certificates"). It needs no node: only
// the trusted start (the genesis hash, or a weak-subjectivity checkpoint's block hash), the genesis validator keys
// with their proofs of possession, and a crypto implementation (BLAKE3 and BLS fast-aggregate verification). It imports
// no native binding and no WebAssembly, so it runs on Node and inside a Cloudflare Worker alike (crypto/noble.ts is
// the pure-JS implementation; the node passes its native one).
//
// Per certificate, in order (each failure is a CertificateError naming the rule):
//   1. it decodes strictly (CERT_MALFORMED, CERT_UNSUPPORTED_VERSION);
//   2. its parent is the last verified checkpoint (CERT_PARENT_MISMATCH) and its slot is later (CERT_NOT_AFTER_PARENT);
//   3. its headers are the blocks they claim: blockHash(parentHeader) = parent.root, blockHash(header) =
//      checkpoint.root, header.slot <= checkpoint.slot, and a later block number than the parent's unless it is the
//      parent's block (CERT_HEADER_MISMATCH);
//   4. the weights: the registry account and each validator's stake, AI score and slashed words, proven against the
//      PARENT block's state root (CERT_REGISTRY_PROOF_INVALID); weight = stake × (10_000 + AI score), 0 if slashed;
//   5. each aggregate votes for this checkpoint (kind link: source = checkpoint, one target at checkpoint.slot + 1;
//      kind fast: the checkpoint itself) (CERT_VOTE_MISMATCH), names only validators of the set
//      (CERT_UNKNOWN_VALIDATOR), and its BLS signature verifies over those validators' keys (CERT_BAD_SIGNATURE);
//   6. the union of the participants weighs >= 2/3 of the total weight (CERT_INSUFFICIENT_WEIGHT).
// A verified certificate's checkpoint and header become the parent of the next one. Trust argument: a certificate
// holds >= 2/3 of the weight signing that the checkpoint is final, under the weights of the previous finalized state;
// a certificate for a conflicting checkpoint would need >= 1/3 of that weight to have signed slashable messages.
import { decodeAccount, decodeStorageWord } from "../account.ts";
import type { CryptoProvider } from "../crypto/cryptoProvider.ts";
import { type BlockHeader, headerHash } from "../header.ts";
import { bigintToBytes32 } from "../hex.ts";
import { MerklePatriciaTrie, proofNodeReader } from "../trie.ts";
import { type Checkpoint, checkpointEquals, isSupermajority, rootFromBytes } from "./checkpoint.ts";
import { CertificateError, decodeFinalityCertificate, type FinalityCertificate } from "./finalityCertificate.ts";
import { proofOfPossessionRoot } from "./proofOfPossession.ts";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, validatorRecord, validatorWeight } from "./registry.ts";
import {
  attestationSigningRoot,
  decodeAggregateAttestation,
  decodeFinalizeAggregate,
  finalizeSigningRoot,
  participantsIn,
} from "./votes.ts";

/**
 * What the verifier needs from cryptography: any CryptoProvider (the runtime's is `cryptoProvider` from
 * @rustchain/shared/crypto; crypto/noble.ts runs anywhere). BLS verification answers false, never throws, for
 * malformed keys or signatures.
 */
export type CertificateCrypto = Pick<CryptoProvider, "blake3" | "blsVerify" | "blsFastAggregateVerify">;

export interface TrustedValidator {
  readonly blsPublicKey: Uint8Array;
  readonly proofOfPossession: Uint8Array;
}

/**
 * Where verification starts, trusted: the genesis block (slot 0), or a weak-subjectivity checkpoint. The first
 * certificate must name exactly this checkpoint as its parent.
 */
export interface TrustedStart {
  readonly checkpoint: Checkpoint;
}

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The checkpoint block's header (undefined only for the trusted start). */
  readonly header: BlockHeader | undefined;
}

export interface CertificateVerifierOptions {
  readonly chainId: bigint;
  readonly validators: readonly TrustedValidator[];
  readonly crypto: CertificateCrypto;
}

/**
 * Verifies certificates one after another from a trusted start. Construction checks every genesis key's proof of
 * possession once (aggregate verification is only sound over such keys): CERT_INVALID_VALIDATOR_SET otherwise.
 */
export class CertificateVerifier {
  private readonly pubkeys: Uint8Array[];
  private current: VerifiedCheckpoint;

  constructor(
    private readonly opts: CertificateVerifierOptions,
    start: TrustedStart,
  ) {
    const { crypto, validators } = opts;
    if (validators.length === 0) throw invalidSet("no validators");
    for (const [i, v] of validators.entries()) {
      if (
        !crypto.blsVerify(v.blsPublicKey, proofOfPossessionRoot(crypto.blake3, v.blsPublicKey), v.proofOfPossession)
      ) {
        throw invalidSet(`validator ${i} has no valid proof of possession`);
      }
    }
    this.pubkeys = validators.map((v) => v.blsPublicKey);
    this.current = { checkpoint: { slot: start.checkpoint.slot, root: start.checkpoint.root }, header: undefined };
  }

  /** The last verified checkpoint (the trusted start before any certificate). */
  get verified(): VerifiedCheckpoint {
    return this.current;
  }

  /** Verify the next certificate of the chain (encoded); on success it becomes the last verified checkpoint. */
  async verifyNext(encoded: Uint8Array): Promise<VerifiedCheckpoint> {
    const cert = decodeFinalityCertificate(encoded);
    const next = await this.check(cert);
    this.current = next;
    return next;
  }

  private async check(cert: FinalityCertificate): Promise<VerifiedCheckpoint> {
    const { crypto, chainId } = this.opts;
    const parent = this.current;
    // 2. It extends what we verified.
    if (!checkpointEquals(cert.parent, parent.checkpoint)) {
      throw new CertificateError({
        code: "CERT_PARENT_MISMATCH",
        expected: `${parent.checkpoint.slot}:${parent.checkpoint.root}`,
        got: `${cert.parent.slot}:${cert.parent.root}`,
      });
    }
    if (cert.checkpoint.slot <= parent.checkpoint.slot) {
      throw new CertificateError({
        code: "CERT_NOT_AFTER_PARENT",
        parentSlot: parent.checkpoint.slot,
        slot: cert.checkpoint.slot,
      });
    }
    // 3. The headers are the parent's and the checkpoint's blocks, at or before their checkpoints' slots.
    if (rootFromBytes(headerHash(crypto.blake3, cert.parentHeader)) !== cert.parent.root) {
      throw headerMismatch("the parent header's hash is not the parent root");
    }
    const root = rootFromBytes(headerHash(crypto.blake3, cert.header));
    if (root !== cert.checkpoint.root) throw headerMismatch("its hash is not the checkpoint root");
    if (Number(cert.header.slot) > cert.checkpoint.slot) throw headerMismatch("its slot is after the checkpoint's");
    const sameBlock = root === cert.parent.root;
    if (!sameBlock && cert.header.number <= cert.parentHeader.number) {
      throw headerMismatch("its number is not after the parent's");
    }

    // 4. Weights at the parent's state.
    const weights = await this.weightsAt(cert.parentHeader.stateRoot, cert.registryProof);
    let total = 0n;
    for (const w of weights) total += w;

    // 5. Every aggregate votes for this checkpoint and carries a valid signature of its participants.
    const signers = new Set<number>();
    let linkTarget: Checkpoint | undefined;
    for (const [i, enc] of cert.aggregates.entries()) {
      let bits: Uint8Array;
      let message: Uint8Array;
      try {
        if (cert.kind === "link") {
          const agg = decodeAggregateAttestation(enc);
          const d = agg.data;
          if (!checkpointEquals(d.source, cert.checkpoint)) throw mismatch(i, "its source is not the checkpoint");
          if (d.target.slot !== cert.checkpoint.slot + 1) throw mismatch(i, "its target is not the next slot");
          linkTarget ??= d.target;
          if (!checkpointEquals(d.target, linkTarget)) throw mismatch(i, "aggregates name different targets");
          bits = agg.bits;
          message = attestationSigningRoot(crypto.blake3, chainId, d);
        } else {
          const agg = decodeFinalizeAggregate(enc);
          if (!checkpointEquals(agg.checkpoint, cert.checkpoint)) throw mismatch(i, "it finalizes another checkpoint");
          bits = agg.bits;
          message = finalizeSigningRoot(crypto.blake3, chainId, agg.checkpoint);
        }
      } catch (e) {
        if (e instanceof CertificateError) throw e;
        throw new CertificateError({ code: "CERT_MALFORMED", reason: `aggregate ${i}: ${(e as Error).message}` });
      }
      const participants = participantsIn(bits, this.pubkeys.length);
      if (participants === undefined) throw new CertificateError({ code: "CERT_UNKNOWN_VALIDATOR", aggregate: i });
      const keys = participants.map((p) => this.pubkeys[p] as Uint8Array);
      if (!crypto.blsFastAggregateVerify(keys, message, aggregateSignature(cert, i))) {
        throw new CertificateError({ code: "CERT_BAD_SIGNATURE", aggregate: i });
      }
      for (const p of participants) signers.add(p);
    }

    // 6. The signers carry >= 2/3 of the weight.
    let weight = 0n;
    for (const s of signers) weight += weights[s] ?? 0n;
    if (!isSupermajority(weight, total)) {
      throw new CertificateError({
        code: "CERT_INSUFFICIENT_WEIGHT",
        weight: weight.toString(),
        total: total.toString(),
      });
    }
    return { checkpoint: cert.checkpoint, header: cert.header };
  }

  /** Each validator's weight from the registry, proven against `stateRoot` by the certificate's trie nodes. */
  private async weightsAt(stateRoot: Uint8Array, nodes: readonly Uint8Array[]): Promise<bigint[]> {
    const { blake3 } = this.opts.crypto;
    const reader = proofNodeReader(blake3, nodes);
    const prove = async (root: Uint8Array, key: Uint8Array, what: string): Promise<Uint8Array | undefined> => {
      try {
        return await new MerklePatriciaTrie({ hash: blake3, root, reader }).get(blake3(key));
      } catch {
        throw new CertificateError({ code: "CERT_REGISTRY_PROOF_INVALID", reason: `missing or bad node for ${what}` });
      }
    };
    const accountEnc = await prove(stateRoot, REGISTRY_ADDRESS, "the registry account");
    if (accountEnc === undefined) {
      throw new CertificateError({ code: "CERT_REGISTRY_PROOF_INVALID", reason: "no registry account in the state" });
    }
    let storageRoot: Uint8Array;
    try {
      storageRoot = decodeAccount(accountEnc).storageRoot;
    } catch {
      throw new CertificateError({ code: "CERT_REGISTRY_PROOF_INVALID", reason: "registry account undecodable" });
    }
    const word = async (index: number, field: RegistryField): Promise<Uint8Array> => {
      const enc = await prove(storageRoot, registrySlot(index, field), `validator ${index} field ${field}`);
      if (enc === undefined) return new Uint8Array(32);
      try {
        return bigintToBytes32(decodeStorageWord(enc));
      } catch {
        throw new CertificateError({ code: "CERT_REGISTRY_PROOF_INVALID", reason: `validator ${index} value` });
      }
    };
    const weights: bigint[] = [];
    for (let i = 0; i < this.pubkeys.length; i++) {
      const record = validatorRecord(
        await word(i, RegistryField.stake),
        await word(i, RegistryField.aiScoreBps),
        await word(i, RegistryField.slashed),
      );
      weights.push(validatorWeight(record));
    }
    return weights;
  }
}

/**
 * Verify a chain of certificates from `start`, in order. Returns every verified checkpoint (the last one is what the
 * chain proves final); throws the first certificate's CertificateError, with `index` telling which one failed.
 */
export async function verifyCertificateChain(
  opts: CertificateVerifierOptions,
  start: TrustedStart,
  certificates: readonly Uint8Array[],
): Promise<VerifiedCheckpoint[]> {
  const verifier = new CertificateVerifier(opts, start);
  const out: VerifiedCheckpoint[] = [];
  for (const [index, cert] of certificates.entries()) {
    try {
      out.push(await verifier.verifyNext(cert));
    } catch (e) {
      if (e instanceof CertificateError) Object.assign(e, { index });
      throw e;
    }
  }
  return out;
}

function aggregateSignature(cert: FinalityCertificate, i: number): Uint8Array {
  const enc = cert.aggregates[i] as Uint8Array;
  return cert.kind === "link" ? decodeAggregateAttestation(enc).signature : decodeFinalizeAggregate(enc).signature;
}

function invalidSet(reason: string): CertificateError {
  return new CertificateError({ code: "CERT_INVALID_VALIDATOR_SET", reason });
}

function headerMismatch(reason: string): CertificateError {
  return new CertificateError({ code: "CERT_HEADER_MISMATCH", reason });
}

function mismatch(aggregate: number, reason: string): CertificateError {
  return new CertificateError({ code: "CERT_VOTE_MISMATCH", aggregate, reason });
}
