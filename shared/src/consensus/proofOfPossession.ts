// What a BLS proof of possession signs: the public key under its own domain, so the proof can never be replayed as
// (or forged from) a block, attestation, finalize vote or VRF signature, all of which sign other domain-tagged roots.
// Pure (the hash is passed in) so the finality-certificate verifier checks genesis keys where no native BLS runs.
export const POP_DOMAIN = new TextEncoder().encode("RUSTCHAIN_BLS_POP_V1");

export function proofOfPossessionRoot(hash: (data: Uint8Array) => Uint8Array, publicKey: Uint8Array): Uint8Array {
  const msg = new Uint8Array(POP_DOMAIN.length + publicKey.length);
  msg.set(POP_DOMAIN);
  msg.set(publicKey, POP_DOMAIN.length);
  return hash(msg);
}
