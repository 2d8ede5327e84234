// Finality certificates: a compact proof that a checkpoint is final, checkable by anyone who trusts the genesis (or a
// weak-subjectivity checkpoint) and nothing else (docs/consensus.md, "Finality certificates"). A node writes one
// certificate each time its finalized checkpoint moves; each names the previous finalized checkpoint as its `parent`,
// so the certificates form a chain from genesis that `verifyCertificateChain` (certificateVerifier.ts) walks.
//
//   certificate = rlp([version, parent, parentHeader, checkpoint, header, kind, aggregates, registryProof])
//     version        1
//     parent         [slot, root]   the previous finalized checkpoint; the vote weights are read at its state
//     parentHeader   the encoded header of the parent's block (blockHash = parent.root): the state root the weights
//                    are proven against, so a certificate is checkable knowing only its parent checkpoint
//     checkpoint     [slot, root]   the finalized checkpoint
//     header         the encoded header of the checkpoint's block (blockHash(header) = checkpoint.root): its number
//     kind           1 = link:  aggregate attestations with source = checkpoint and one target at checkpoint.slot + 1
//                               (the Casper-FFG "k = 1" rule);
//                    2 = fast:  finalize-vote aggregates for the checkpoint (finality within the slot)
//     aggregates     encoded AggregateAttestation (kind 1) or FinalizeAggregate (kind 2), at least one; their
//                    participants may overlap and are counted once
//     registryProof  trie nodes (each an RLP node encoding, any order) proving, against the parent block's state
//                    root, the registry account and the stake, AI score and slashed words of every genesis validator
//
// The decoder is strict and bounded: at most MAX_CERTIFICATE_BYTES in all, MAX_CERTIFICATE_AGGREGATES aggregates and
// MAX_CERTIFICATE_PROOF_NODES nodes, and it accepts exactly one encoding of each certificate.
import { ChainError, RustChainError } from "../errors.ts";
import { type BlockHeader, decodeHeader, encodeHeader, MAX_HEADER_BYTES } from "../header.ts";
import { bytesToHex, equalBytes, hexToBytes } from "../hex.ts";
import { type RlpDecoded, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "../rlp.ts";
import { type Checkpoint, isRoot, isSlot } from "./checkpoint.ts";
import { MAX_AGGREGATE_ATTESTATION_BYTES } from "./votes.ts";

export const CERTIFICATE_VERSION = 1;
export const MAX_CERTIFICATE_BYTES = 1024 * 1024;
export const MAX_CERTIFICATE_AGGREGATES = 64;
export const MAX_CERTIFICATE_PROOF_NODES = 65_536;
/** A trie node's encoding is at most a full branch: 16 hashes and a value, well under this. */
export const MAX_TRIE_NODE_BYTES = 1024;

export const CertificateKind = { link: 1, fast: 2 } as const;
export type CertificateKind = keyof typeof CertificateKind;

export interface FinalityCertificate {
  readonly parent: Checkpoint;
  readonly parentHeader: BlockHeader;
  readonly checkpoint: Checkpoint;
  readonly header: BlockHeader;
  readonly kind: CertificateKind;
  readonly aggregates: readonly Uint8Array[];
  readonly registryProof: readonly Uint8Array[];
}

export type CertificateErrorType =
  | { code: "CERT_MALFORMED"; reason: string }
  | { code: "CERT_UNSUPPORTED_VERSION"; version: number }
  | { code: "CERT_INVALID_VALIDATOR_SET"; reason: string }
  | { code: "CERT_PARENT_MISMATCH"; expected: string; got: string }
  | { code: "CERT_NOT_AFTER_PARENT"; parentSlot: number; slot: number }
  | { code: "CERT_HEADER_MISMATCH"; reason: string }
  | { code: "CERT_REGISTRY_PROOF_INVALID"; reason: string }
  | { code: "CERT_VOTE_MISMATCH"; aggregate: number; reason: string }
  | { code: "CERT_UNKNOWN_VALIDATOR"; aggregate: number }
  | { code: "CERT_BAD_SIGNATURE"; aggregate: number }
  | { code: "CERT_INSUFFICIENT_WEIGHT"; weight: string; total: string };

/** A certificate that proves nothing: which rule failed, and where. Nothing was accepted past the failing one. */
export class CertificateError extends RustChainError<CertificateErrorType> {
  constructor(type: CertificateErrorType) {
    super(type, certificateErrorMessage(type));
  }
}

export function certificateErrorMessage(t: CertificateErrorType): string {
  switch (t.code) {
    case "CERT_MALFORMED":
      return `malformed finality certificate: ${t.reason}`;
    case "CERT_UNSUPPORTED_VERSION":
      return `finality certificate version ${t.version} is not supported`;
    case "CERT_INVALID_VALIDATOR_SET":
      return `the trusted validator set is unusable: ${t.reason}`;
    case "CERT_PARENT_MISMATCH":
      return `certificate does not follow the last verified checkpoint (expected parent ${t.expected}, got ${t.got})`;
    case "CERT_NOT_AFTER_PARENT":
      return `certificate checkpoint slot ${t.slot} is not after its parent's slot ${t.parentSlot}`;
    case "CERT_HEADER_MISMATCH":
      return `certificate header does not match its checkpoint: ${t.reason}`;
    case "CERT_REGISTRY_PROOF_INVALID":
      return `certificate registry proof does not match the parent's state root: ${t.reason}`;
    case "CERT_VOTE_MISMATCH":
      return `aggregate ${t.aggregate} does not vote for this checkpoint: ${t.reason}`;
    case "CERT_UNKNOWN_VALIDATOR":
      return `aggregate ${t.aggregate} names validators outside the set`;
    case "CERT_BAD_SIGNATURE":
      return `aggregate ${t.aggregate} has an invalid signature`;
    case "CERT_INSUFFICIENT_WEIGHT":
      return `signers weigh ${t.weight} of ${t.total}, below 2/3`;
  }
}

export function encodeFinalityCertificate(c: FinalityCertificate): Uint8Array {
  checkCheckpoint(c.parent, "parent");
  checkCheckpoint(c.checkpoint, "checkpoint");
  if (!(c.kind in CertificateKind)) throw malformed("kind");
  if (c.aggregates.length === 0 || c.aggregates.length > MAX_CERTIFICATE_AGGREGATES) throw malformed("aggregates");
  if (c.registryProof.length > MAX_CERTIFICATE_PROOF_NODES) throw malformed("registry proof");
  const out = rlpEncode([
    CERTIFICATE_VERSION,
    [c.parent.slot, hexToBytes(c.parent.root)],
    encodeHeader(c.parentHeader),
    [c.checkpoint.slot, hexToBytes(c.checkpoint.root)],
    encodeHeader(c.header),
    CertificateKind[c.kind],
    [...c.aggregates],
    [...c.registryProof],
  ]);
  if (out.length > MAX_CERTIFICATE_BYTES) throw malformed(`${out.length} bytes exceeds ${MAX_CERTIFICATE_BYTES}`);
  return out;
}

/** Strict, bounded decoding; throws CERT_MALFORMED or CERT_UNSUPPORTED_VERSION, never anything else. */
export function decodeFinalityCertificate(bytes: Uint8Array): FinalityCertificate {
  if (!(bytes instanceof Uint8Array)) throw malformed("not bytes");
  if (bytes.length > MAX_CERTIFICATE_BYTES) {
    throw malformed(`${bytes.length} bytes exceeds the limit of ${MAX_CERTIFICATE_BYTES}`);
  }
  try {
    const fields = rlpList(rlpDecode(bytes, MAX_CERTIFICATE_BYTES), "certificate");
    const version = Number(rlpUint(fields[0], "version", 2));
    if (version !== CERTIFICATE_VERSION) {
      throw new CertificateError({ code: "CERT_UNSUPPORTED_VERSION", version });
    }
    if (fields.length !== 8) throw malformed("expected 8 fields");
    const kindTag = Number(rlpUint(fields[5], "kind", 1));
    const kind = (Object.keys(CertificateKind) as CertificateKind[]).find((k) => CertificateKind[k] === kindTag);
    if (kind === undefined) throw malformed(`unknown kind ${kindTag}`);
    const aggregates = rlpList(fields[6], "aggregates").map((a) =>
      rlpBytes(a, "aggregate", MAX_AGGREGATE_ATTESTATION_BYTES),
    );
    const registryProof = rlpList(fields[7], "registry proof").map((n) => rlpBytes(n, "node", MAX_TRIE_NODE_BYTES));
    if (aggregates.length === 0 || aggregates.length > MAX_CERTIFICATE_AGGREGATES) throw malformed("aggregates");
    if (registryProof.length > MAX_CERTIFICATE_PROOF_NODES) throw malformed("registry proof");
    const cert: FinalityCertificate = {
      parent: decodeCheckpoint(fields[1], "parent"),
      parentHeader: decodeHeader(rlpBytes(fields[2], "parent header", MAX_HEADER_BYTES)),
      checkpoint: decodeCheckpoint(fields[3], "checkpoint"),
      header: decodeHeader(rlpBytes(fields[4], "header", MAX_HEADER_BYTES)),
      kind,
      aggregates,
      registryProof,
    };
    if (!equalBytes(encodeFinalityCertificate(cert), bytes)) throw malformed("non-canonical encoding");
    return cert;
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    if (e instanceof ChainError) throw malformed("reason" in e.type ? e.type.reason : e.type.code);
    throw malformed("undecodable");
  }
}

function decodeCheckpoint(item: RlpDecoded | undefined, what: string): Checkpoint {
  const [slot, root] = rlpList(item, what, 2);
  const s = rlpUint(slot, `${what}.slot`, 8);
  if (s > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${what}.slot`);
  const r = rlpBytes(root, `${what}.root`, 32);
  if (r.length !== 32) throw malformed(`${what}.root`);
  return { slot: Number(s), root: bytesToHex(r) };
}

function checkCheckpoint(cp: Checkpoint, what: string): void {
  if (typeof cp !== "object" || cp === null || !isSlot(cp.slot) || !isRoot(cp.root)) throw malformed(what);
}

function malformed(reason: string): CertificateError {
  return new CertificateError({ code: "CERT_MALFORMED", reason });
}
