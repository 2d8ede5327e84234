// Test support (never imported by production code): a synthetic chain of finality certificates with real signatures,
// real registry state tries and real proofs, for the verifier's tests on Node (native crypto) and inside workerd
// (noble). Each step i is a block at slot i whose state holds the given registry; certificate i finalizes block i
// with parent block i - 1 and weights proven against block i - 1's state.
import { encodeAccount } from "../account.ts";
import { type BlockHeader, headerHash } from "../header.ts";
import { bytesToHex } from "../hex.ts";
import { rlpEncode } from "../rlp.ts";
import { testHeader } from "../testHeaders.ts";
import { MerklePatriciaTrie, proofNodeReader } from "../trie.ts";
import type { TrustedStart, TrustedValidator } from "./certificateVerifier.ts";
import { type AttestationData, type Checkpoint, rootFromBytes } from "./checkpoint.ts";
import {
  CertificateError,
  type CertificateKind,
  encodeFinalityCertificate,
  type FinalityCertificate,
} from "./finalityCertificate.ts";
import { proofOfPossessionRoot } from "./proofOfPossession.ts";
import { REGISTRY_ADDRESS, RegistryField, registrySlot, type ValidatorRecord } from "./registry.ts";
import {
  attestationSigningRoot,
  encodeAggregateAttestation,
  encodeFinalizeAggregate,
  finalizeSigningRoot,
  setBit,
} from "./votes.ts";

export interface FixtureCrypto {
  blake3(data: Uint8Array): Uint8Array;
  blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  blsPublicKey(secretKey: Uint8Array): Uint8Array;
  blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array;
}

export interface FixtureStep {
  /** The registry in this block's state. */
  readonly registry: readonly ValidatorRecord[];
  /** Who signs this block's certificate (ignored for step 0, the genesis). */
  readonly signers?: readonly number[];
  readonly kind?: CertificateKind;
}

export interface CertificateFixture {
  readonly chainId: bigint;
  readonly validators: TrustedValidator[];
  readonly secretKeys: Uint8Array[];
  readonly start: TrustedStart;
  readonly headers: BlockHeader[];
  readonly checkpoints: Checkpoint[];
  /** Certificate i finalizes block i + 1. */
  readonly certificates: FinalityCertificate[];
  readonly encoded: Uint8Array[];
  /** Registry proof nodes of block i's state (for crafting certificates). */
  readonly registryProofs: Uint8Array[][];
  /** Signed aggregates, for crafting certificates: what `signers` sign for block `step`. */
  sign(step: number, signers: readonly number[], kind: CertificateKind, opts?: { targetRoot?: string }): Uint8Array;
}

export const fixtureKey = (i: number): Uint8Array => {
  const ikm = new Uint8Array(32);
  ikm[31] = i + 1;
  // A valid BLS12-381 secret key: small integers are in range.
  return ikm;
};

/** Build the chain. Genesis is steps[0]; every later step gets a header and a certificate. */
export async function buildCertificateFixture(
  crypto: FixtureCrypto,
  opts: { chainId: bigint; validatorCount: number; steps: readonly FixtureStep[] },
): Promise<CertificateFixture> {
  const { chainId, validatorCount } = opts;
  const secretKeys = Array.from({ length: validatorCount }, (_, i) => fixtureKey(i));
  const validators = secretKeys.map((sk) => {
    const pk = crypto.blsPublicKey(sk);
    return { blsPublicKey: pk, proofOfPossession: crypto.blsSign(sk, proofOfPossessionRoot(crypto.blake3, pk)) };
  });
  const headers: BlockHeader[] = [];
  const registryProofs: Uint8Array[][] = [];
  for (const [i, step] of opts.steps.entries()) {
    const { stateRoot, proof } = await registryState(crypto.blake3, step.registry);
    registryProofs.push(proof);
    headers.push(
      testHeader({
        parentHash: i === 0 ? new Uint8Array(32) : headerHash(crypto.blake3, headers[i - 1] as BlockHeader),
        slot: BigInt(i),
        stateRoot,
      }),
    );
  }
  const checkpoints = headers.map((h, i) => ({ slot: i, root: rootFromBytes(headerHash(crypto.blake3, h)) as string }));
  const sign = (step: number, signers: readonly number[], kind: CertificateKind, o: { targetRoot?: string } = {}) => {
    const cp = checkpoints[step] as Checkpoint;
    const bits = new Uint8Array(Math.ceil(validatorCount / 8));
    for (const s of signers) setBit(bits, s);
    if (kind === "fast") {
      const message = finalizeSigningRoot(crypto.blake3, chainId, cp);
      const signature = crypto.blsAggregateSignatures(
        signers.map((s) => crypto.blsSign(secretKeys[s] as Uint8Array, message)),
      );
      return encodeFinalizeAggregate({ checkpoint: cp, bits, signature });
    }
    const target = { slot: cp.slot + 1, root: o.targetRoot ?? checkpoints[step + 1]?.root ?? cp.root };
    const data: AttestationData = { slot: target.slot, headRoot: target.root, source: cp, target };
    const message = attestationSigningRoot(crypto.blake3, chainId, data);
    const signature = crypto.blsAggregateSignatures(
      signers.map((s) => crypto.blsSign(secretKeys[s] as Uint8Array, message)),
    );
    return encodeAggregateAttestation({ data, bits, signature });
  };
  const certificates: FinalityCertificate[] = [];
  for (let i = 1; i < opts.steps.length; i++) {
    const step = opts.steps[i] as FixtureStep;
    const kind = step.kind ?? "fast";
    const signers = step.signers ?? Array.from({ length: validatorCount }, (_, v) => v);
    certificates.push({
      parent: checkpoints[i - 1] as Checkpoint,
      parentHeader: headers[i - 1] as BlockHeader,
      checkpoint: checkpoints[i] as Checkpoint,
      header: headers[i] as BlockHeader,
      kind,
      aggregates: [sign(i, signers, kind)],
      registryProof: registryProofs[i - 1] as Uint8Array[],
    });
  }
  return {
    chainId,
    validators,
    secretKeys,
    start: { checkpoint: checkpoints[0] as Checkpoint },
    headers,
    checkpoints,
    certificates,
    encoded: certificates.map(encodeFinalityCertificate),
    registryProofs,
    sign,
  };
}

/** A state with only the registry account; returns its root and the proof nodes of every registry word. */
async function registryState(
  blake3: (d: Uint8Array) => Uint8Array,
  registry: readonly ValidatorRecord[],
): Promise<{ stateRoot: Uint8Array; proof: Uint8Array[] }> {
  const storage = new MerklePatriciaTrie({ hash: blake3 });
  const slots: Uint8Array[] = [];
  for (const [i, r] of registry.entries()) {
    const words: [RegistryField, bigint][] = [
      [RegistryField.stake, r.stake],
      [RegistryField.aiScoreBps, BigInt(r.aiScoreBps)],
      [RegistryField.slashed, r.slashed ? 1n : 0n],
    ];
    for (const [field, value] of words) {
      const slot = registrySlot(i, field);
      slots.push(slot);
      if (value !== 0n) await storage.put(blake3(slot), rlpEncode(value));
    }
  }
  const storageCommit = storage.commit();
  const accounts = new MerklePatriciaTrie({ hash: blake3 });
  const account = { nonce: 1n, balance: 0n, storageRoot: storageCommit.root, codeHash: blake3(new Uint8Array(0)) };
  await accounts.put(blake3(REGISTRY_ADDRESS), encodeAccount(account));
  const accountCommit = accounts.commit();
  const all = [...storageCommit.nodes, ...accountCommit.nodes].map(([, enc]) => enc);
  // Proofs: the nodes on each path (the union is the certificate's registryProof).
  const reader = proofNodeReader(blake3, all);
  const nodes = new Map<string, Uint8Array>();
  const add = (list: Uint8Array[]) => {
    for (const n of list) nodes.set(bytesToHex(n), n);
  };
  add(
    await new MerklePatriciaTrie({ hash: blake3, root: accountCommit.root, reader }).createProof(
      blake3(REGISTRY_ADDRESS),
    ),
  );
  const st = new MerklePatriciaTrie({ hash: blake3, root: storageCommit.root, reader });
  for (const slot of slots) add(await st.createProof(blake3(slot)));
  return { stateRoot: accountCommit.root, proof: [...nodes.values()] };
}

/** The code of the CertificateError a verification rejects with, or "accepted". */
export async function certificateRefusal(verification: Promise<unknown>): Promise<string> {
  try {
    await verification;
  } catch (e) {
    if (e instanceof CertificateError) return e.type.code;
    throw e;
  }
  return "accepted";
}
