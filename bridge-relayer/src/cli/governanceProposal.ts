// Governance proposals and the operators' signatures over them (docs/bridge.md, "Governance"), as files that move
// between machines: one operator writes a proposal (the exact VAA body: timestamp, nonce, sequence, the governance
// emitter, the payload); each committee operator signs its digest on their own machine; anyone assembles the VAA
// from a quorum of signatures and submits it. Everything here is pure: the CLI (governanceCommand.ts) does the I/O.
//
// Rules this file enforces, so that an operator can trust what they sign and what they submit:
// - a proposal is re-derived from its body on every read: the digest and the description must match the payload,
//   the emitter must be the governance emitter, the payload must decode as a governance action;
// - a signature is accepted only for this proposal's digest, only if it recovers to the signer it names, and only if
//   that signer is the key at its guardian index in the set the VAA is built for;
// - a VAA is built only from a quorum (floor(2n/3)+1) of distinct guardians, in ascending index order, and is checked
//   with the same verifyVaa the gateways' rules are written from before it is returned.
import { describeError, RustChainError } from "@rustchain/shared";
import { decodeGovernance, GOVERNANCE_EMITTER, type GovernanceAction } from "@rustchain/shared/bridge/governance";
import {
  CONSISTENCY_FINALIZED,
  decodeVaa,
  encodeVaa,
  encodeVaaBody,
  type GuardianSet,
  quorum,
  recoverSigner,
  type VaaBody,
  type VaaSignature,
  vaaDigest,
  verifyVaa,
  WORMHOLE_CHAIN,
} from "@rustchain/shared/bridge/vaa";
import { bytesToHex, equalBytes, hexToBytes } from "@rustchain/shared/hex";
import { z } from "zod";

export type GovernanceFileErrorType =
  /** A proposal file that is not one, or whose digest, description or emitter does not match its body. */
  | { code: "PROPOSAL_INVALID"; reason: string }
  /** A signature file that is not one. */
  | { code: "SIGNATURE_INVALID"; reason: string }
  /** A signature over another proposal's digest. */
  | { code: "WRONG_PROPOSAL"; guardianIndex: number; digest: string }
  /** A signature that does not recover to the signer it names. */
  | { code: "BAD_SIGNATURE"; guardianIndex: number; reason: string }
  /** A signer that is not the key at its index (or not in the set at all). */
  | { code: "NOT_GUARDIAN"; signer: string; reason: string }
  /** Fewer distinct guardians than the set's quorum. */
  | { code: "QUORUM"; signatures: number; needed: number };

export class GovernanceFileError extends RustChainError<GovernanceFileErrorType> {}

const MAX_U64 = (1n << 64n) - 1n;
const hexBytes = (what: string) => z.string().regex(/^0x([0-9a-fA-F]{2})*$/, `${what}: 0x-prefixed hex bytes`);
const decimalU64 = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, "sequence: a decimal integer")
  .refine((s) => BigInt(s) <= MAX_U64, "sequence: at most 2^64-1");

export const PROPOSAL_TYPE = "rustchain-governance-proposal";
export const SIGNATURE_TYPE = "rustchain-governance-signature";

export const proposalFileSchema = z.strictObject({
  type: z.literal(PROPOSAL_TYPE),
  version: z.literal(1),
  /** What the payload does, for people; always re-derived from the payload and compared. */
  description: z.string().max(32_768),
  /** keccak256(keccak256(body)): what the guardians sign. */
  digest: hexBytes("digest").length(66),
  body: z.strictObject({
    timestamp: z.number().int().min(0).max(0xffffffff),
    nonce: z.number().int().min(0).max(0xffffffff),
    emitterChain: z.number().int().min(0).max(0xffff),
    emitterAddress: hexBytes("emitterAddress").length(66),
    /** u64 as a decimal string: JSON numbers lose precision above 2^53. */
    sequence: decimalU64,
    consistencyLevel: z.number().int().min(0).max(0xff),
    payload: hexBytes("payload").max(2 + 2 * 16_384),
  }),
});

export type ProposalFile = z.infer<typeof proposalFileSchema>;

export const signatureFileSchema = z.strictObject({
  type: z.literal(SIGNATURE_TYPE),
  version: z.literal(1),
  digest: hexBytes("digest").length(66),
  guardianIndex: z.number().int().min(0).max(254),
  /** r ‖ s ‖ recovery id (0 or 1), as in a VAA. */
  signature: hexBytes("signature").length(132),
  /** The signer's 20-byte address. */
  signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "signer: a 20-byte address"),
});

export type SignatureFile = z.infer<typeof signatureFileSchema>;

/** A proposal after its checks: the body to encode, its digest and the action its payload holds. */
export interface Proposal {
  file: ProposalFile;
  body: VaaBody;
  encodedBody: Uint8Array;
  digest: Uint8Array;
  action: GovernanceAction;
}

// ---------------------------------------------------------------------------------------------------------------
// Descriptions

const CHAIN_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(WORMHOLE_CHAIN).map(([name, id]) => [id, name]),
);

export function chainLabel(chain: number): string {
  const name = CHAIN_NAMES[chain];
  return name ? `chain ${chain} (${name})` : `chain ${chain}`;
}

const target = (chain: number) => (chain === 0 ? "on every chain" : `on ${chainLabel(chain)}`);

/** A 32-byte Wormhole address as people know it: a 20-byte address when its upper 12 bytes are zero. */
export function formatUniversalAddress(a: Uint8Array): string {
  return a.length === 32 && a.subarray(0, 12).every((b) => b === 0) ? bytesToHex(a.subarray(12)) : bytesToHex(a);
}

function token(tokenChain: number, tokenAddress: Uint8Array): string {
  if (tokenAddress.every((b) => b === 0)) return `the native coin of ${chainLabel(tokenChain)}`;
  return `token ${formatUniversalAddress(tokenAddress)} of ${chainLabel(tokenChain)}`;
}

/** One line saying what a governance action does; the proposal file carries it and `sign` prints it. */
export function describeGovernance(a: GovernanceAction): string {
  if (a.module === "Core" && a.action === 3)
    return `Core SetMessageFee ${target(a.chain)}: every published message pays ${a.fee} wei`;
  if (a.module === "Core" && a.action === 4)
    return `Core TransferFees ${target(a.chain)}: pay ${a.amount} wei of the collected message fees to ${formatUniversalAddress(a.recipient)}`;
  if (a.module === "Core")
    return `Core GuardianSetUpgrade ${target(a.chain)}: guardian set ${a.newIndex} becomes the ${a.keys.length} keys ${a.keys.map((k) => bytesToHex(k)).join(", ")}`;
  if (a.module === "TokenBridge")
    return `TokenBridge RegisterChain ${target(a.chain)}: accept transfers from gateway ${formatUniversalAddress(a.emitterAddress)} on ${chainLabel(a.emitterChain)}`;
  if (a.action === 1)
    return `RustChainBridge SetPaused ${target(a.chain)}: ${a.paused ? "pause" : "unpause"} ${token(a.tokenChain, a.tokenAddress)}`;
  const limit = (n: bigint) => (n === 0n ? "none" : n.toString());
  return `RustChainBridge SetGovernor ${target(a.chain)}: ${token(a.tokenChain, a.tokenAddress)}: daily limit ${limit(a.dailyLimit)}, threshold ${limit(a.threshold)} (normalised 8-decimal units), delay ${a.delay} s`;
}

// ---------------------------------------------------------------------------------------------------------------
// Proposals

export interface ProposalFields {
  /** Unix seconds; the VAA body's timestamp. */
  timestamp: number;
  nonce: number;
  /** Random by default (governanceCommand.ts) so that two proposals never share a digest. */
  sequence: bigint;
}

export function createProposal(payload: Uint8Array, f: ProposalFields): ProposalFile {
  const action = decodeGovernance(payload);
  const body: VaaBody = {
    timestamp: f.timestamp,
    nonce: f.nonce,
    emitterChain: GOVERNANCE_EMITTER.chain,
    emitterAddress: GOVERNANCE_EMITTER.address,
    sequence: f.sequence,
    consistencyLevel: CONSISTENCY_FINALIZED,
    payload,
  };
  return {
    type: PROPOSAL_TYPE,
    version: 1,
    description: describeGovernance(action),
    digest: bytesToHex(vaaDigest(encodeVaaBody(body))),
    body: {
      timestamp: body.timestamp,
      nonce: body.nonce,
      emitterChain: body.emitterChain,
      emitterAddress: bytesToHex(body.emitterAddress),
      sequence: body.sequence.toString(),
      consistencyLevel: body.consistencyLevel,
      payload: bytesToHex(payload),
    },
  };
}

function issue(e: z.ZodError): string {
  const first = e.issues[0];
  return first ? `${first.path.join(".") || "file"}: ${first.message}` : "invalid";
}

/** Check a proposal file (parsed JSON) against its own body; everything a signer or submitter relies on. */
export function parseProposal(json: unknown): Proposal {
  const fail = (reason: string): never => {
    throw new GovernanceFileError({ code: "PROPOSAL_INVALID", reason });
  };
  const parsed = proposalFileSchema.safeParse(json);
  if (!parsed.success) return fail(issue(parsed.error));
  const file = parsed.data;
  const body: VaaBody = {
    timestamp: file.body.timestamp,
    nonce: file.body.nonce,
    emitterChain: file.body.emitterChain,
    emitterAddress: hexToBytes(file.body.emitterAddress),
    sequence: BigInt(file.body.sequence),
    consistencyLevel: file.body.consistencyLevel,
    payload: hexToBytes(file.body.payload),
  };
  if (body.emitterChain !== GOVERNANCE_EMITTER.chain || !equalBytes(body.emitterAddress, GOVERNANCE_EMITTER.address))
    fail(`emitter ${body.emitterChain}/${file.body.emitterAddress} is not the governance emitter`);
  let action: GovernanceAction;
  try {
    action = decodeGovernance(body.payload);
  } catch (e) {
    return fail(`payload: ${describeError(e)}`);
  }
  const encodedBody = encodeVaaBody(body);
  const digest = vaaDigest(encodedBody);
  if (bytesToHex(digest) !== file.digest.toLowerCase())
    fail(`digest ${file.digest} is not the body's (${bytesToHex(digest)}): the file was changed`);
  const description = describeGovernance(action);
  if (file.description !== description) fail(`description does not match the payload, which says: ${description}`);
  return { file, body, encodedBody, digest, action };
}

// ---------------------------------------------------------------------------------------------------------------
// Signatures

/** A 65-byte r ‖ s ‖ v signature with v 27/28 (viem, ethers) or 0/1, as the VAA's r ‖ s ‖ recovery id. */
export function toVaaSignature(signature: Uint8Array): Uint8Array {
  if (signature.length !== 65)
    throw new GovernanceFileError({ code: "SIGNATURE_INVALID", reason: `${signature.length}-byte signature` });
  const out = signature.slice();
  const v = out[64] as number;
  out[64] = v >= 27 ? v - 27 : v;
  return out;
}

/** A guardian's signature file over `p`; the signature is checked to recover to `signer`. */
export function signatureFile(
  p: Proposal,
  guardianIndex: number,
  signer: Uint8Array,
  signature: Uint8Array,
): SignatureFile {
  const sig = toVaaSignature(signature);
  const recovered = recoverSigner(p.digest, sig);
  if (!recovered || !equalBytes(recovered, signer))
    throw new GovernanceFileError({
      code: "BAD_SIGNATURE",
      guardianIndex,
      reason: `the signature does not recover to ${bytesToHex(signer)}`,
    });
  return {
    type: SIGNATURE_TYPE,
    version: 1,
    digest: bytesToHex(p.digest),
    guardianIndex,
    signature: bytesToHex(sig),
    signer: bytesToHex(signer),
  };
}

export function parseSignature(json: unknown): SignatureFile {
  const parsed = signatureFileSchema.safeParse(json);
  if (!parsed.success) throw new GovernanceFileError({ code: "SIGNATURE_INVALID", reason: issue(parsed.error) });
  return parsed.data;
}

/** Where `address` sits in `set`, or undefined. */
export function guardianIndexOf(set: GuardianSet, address: Uint8Array): number | undefined {
  const i = set.keys.findIndex((k) => equalBytes(k, address));
  return i < 0 ? undefined : i;
}

/** One signature checked against `p` and `set` (rules at the top of this file). */
export function checkSignature(p: Proposal, s: SignatureFile, set: GuardianSet): VaaSignature {
  if (s.digest.toLowerCase() !== bytesToHex(p.digest))
    throw new GovernanceFileError(
      { code: "WRONG_PROPOSAL", guardianIndex: s.guardianIndex, digest: s.digest },
      `the signature of guardian ${s.guardianIndex} is over ${s.digest}, not this proposal (${bytesToHex(p.digest)})`,
    );
  const signature = hexToBytes(s.signature);
  const signer = hexToBytes(s.signer.toLowerCase());
  const recovered = recoverSigner(p.digest, signature);
  if (!recovered || !equalBytes(recovered, signer))
    throw new GovernanceFileError({
      code: "BAD_SIGNATURE",
      guardianIndex: s.guardianIndex,
      reason: `the signature of guardian ${s.guardianIndex} does not recover to ${s.signer}`,
    });
  const key = set.keys[s.guardianIndex];
  if (!key || !equalBytes(key, signer)) {
    const at = guardianIndexOf(set, signer);
    throw new GovernanceFileError(
      { code: "NOT_GUARDIAN", signer: s.signer, reason: at === undefined ? "not in the set" : `index ${at}` },
      at === undefined
        ? `${s.signer} is not in guardian set ${set.index}`
        : `${s.signer} signed as guardian ${s.guardianIndex} but is guardian ${at} of set ${set.index}`,
    );
  }
  return { guardianIndex: s.guardianIndex, signature };
}

/**
 * The governance VAA of `p` for the gateway whose current set is `set`: every signature checked, duplicates of a
 * guardian dropped, a quorum required, indices ascending; verified with verifyVaa before it is returned.
 */
export function assembleGovernanceVaa(
  p: Proposal,
  signatures: SignatureFile[],
  set: GuardianSet,
): { vaa: Uint8Array; guardians: number[]; quorum: number } {
  const byIndex = new Map<number, VaaSignature>();
  for (const s of signatures) {
    const checked = checkSignature(p, s, set);
    if (!byIndex.has(checked.guardianIndex)) byIndex.set(checked.guardianIndex, checked);
  }
  const needed = quorum(set.keys.length);
  if (byIndex.size < needed)
    throw new GovernanceFileError(
      { code: "QUORUM", signatures: byIndex.size, needed },
      `${byIndex.size} guardian signature${byIndex.size === 1 ? "" : "s"}, ${needed} of the ${set.keys.length} guardians of set ${set.index} needed`,
    );
  const sorted = [...byIndex.values()].sort((a, b) => a.guardianIndex - b.guardianIndex);
  const vaa = encodeVaa({ guardianSetIndex: set.index, signatures: sorted, body: p.encodedBody });
  verifyVaa(decodeVaa(vaa), { index: set.index, keys: set.keys }, p.body.timestamp);
  return { vaa, guardians: sorted.map((s) => s.guardianIndex), quorum: needed };
}
