// Finality certificates as a client sees them: the chain fetched from a node over libp2p (finality_certificates
// req/resp), and forgeries of a real certificate for the verifier to refuse.
import type { PeerId } from "@libp2p/interface";
import {
  blake3,
  blockHash,
  blsAggregateSignatures,
  blsSign,
  bytesToHex,
  decodeHeader,
  encodeHeader,
  hexToBytes,
} from "@rustchain/shared";
import type { Checkpoint } from "@rustchain/shared/consensus/checkpoint";
import {
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
} from "@rustchain/shared/consensus/finalityCertificate";
import {
  attestationSigningRoot,
  decodeAggregateAttestation,
  decodeFinalizeAggregate,
  encodeAggregateAttestation,
  encodeFinalizeAggregate,
  finalizeSigningRoot,
  setBit,
} from "@rustchain/shared/consensus/votes";
import type { Network } from "../../validator/src/network/network.ts";

/** Every certificate the node behind `peer` holds, in slot order, 64 per request. */
export async function fetchCertificateChain(net: Network, peer: PeerId): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let from = 0n;
  for (let round = 0; round < 1000; round++) {
    const batch = await net.requestFinalityCertificates(peer, from, 64);
    out.push(...batch);
    if (batch.length < 64) break;
    from = BigInt(decodeFinalityCertificate(batch.at(-1) as Uint8Array).checkpoint.slot + 1);
  }
  return out;
}

/** Every certificate a node holds, in slot order, over JSON-RPC (rustchain_getFinalityCertificates, 64 at a time). */
export async function fetchCertificateChainRpc(
  rpc: (method: string, params: unknown[]) => Promise<unknown>,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let from = 0n;
  for (let round = 0; round < 1000; round++) {
    const batch = (await rpc("rustchain_getFinalityCertificates", [`0x${from.toString(16)}`, "0x40"])) as string[];
    out.push(...batch.map((h) => hexToBytes(h)));
    if (batch.length < 64) break;
    from = BigInt(decodeFinalityCertificate(out.at(-1) as Uint8Array).checkpoint.slot + 1);
  }
  return out;
}

/** The certificate with one bit of its first aggregate's signature flipped. */
export function withForgedSignature(encoded: Uint8Array): Uint8Array {
  const cert = decodeFinalityCertificate(encoded);
  const agg = (cert.aggregates[0] as Uint8Array).slice();
  agg[agg.length - 10] = (agg[agg.length - 10] as number) ^ 1;
  return encodeFinalityCertificate({ ...cert, aggregates: [agg] });
}

/** The same votes, re-signed by `signers` only (secret keys by validator index): one aggregate per vote data. */
export function resignedBy(
  encoded: Uint8Array,
  chainId: bigint,
  signers: readonly number[],
  secretKeys: readonly Uint8Array[],
  validatorCount: number,
): Uint8Array {
  const cert = decodeFinalityCertificate(encoded);
  const bits = new Uint8Array(Math.ceil(validatorCount / 8));
  for (const s of signers) setBit(bits, s);
  const first = cert.aggregates[0] as Uint8Array;
  let aggregate: Uint8Array;
  if (cert.kind === "fast") {
    const { checkpoint } = decodeFinalizeAggregate(first);
    const message = finalizeSigningRoot(blake3, chainId, checkpoint);
    const signature = blsAggregateSignatures(signers.map((s) => blsSign(secretKeys[s] as Uint8Array, message)));
    aggregate = encodeFinalizeAggregate({ checkpoint, bits, signature });
  } else {
    const { data } = decodeAggregateAttestation(first);
    const message = attestationSigningRoot(blake3, chainId, data);
    const signature = blsAggregateSignatures(signers.map((s) => blsSign(secretKeys[s] as Uint8Array, message)));
    aggregate = encodeAggregateAttestation({ data, bits, signature });
  }
  return encodeFinalityCertificate({ ...cert, aggregates: [aggregate] });
}

/**
 * The certificate's votes and parent, claimed for a sibling of its block (same parent and number, other contents:
 * a block of another fork).
 */
export function forOtherFork(encoded: Uint8Array): { encoded: Uint8Array; checkpoint: Checkpoint } {
  const cert: FinalityCertificate = decodeFinalityCertificate(encoded);
  const sibling = decodeHeader(encodeHeader(cert.header));
  sibling.extraData = new TextEncoder().encode("another fork");
  const checkpoint = { slot: cert.checkpoint.slot, root: bytesToHex(blockHash(sibling)) };
  return { encoded: encodeFinalityCertificate({ ...cert, header: sibling, checkpoint }), checkpoint };
}
