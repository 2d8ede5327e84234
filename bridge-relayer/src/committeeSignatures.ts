// Gathering a VAA from the committee: every validator RPC is asked for the message (rustchain_getBridgeMessage),
// each answer's signatures are checked against the guardian set the destination gateway holds, and the valid ones
// are merged. No single RPC is trusted: a forged or stale signature is dropped, not submitted. Used by the relayer and
// by `rustchain bridge redeem` (which needs no relayer).
import { bytesToHex, equalBytes, hexToBytes } from "@rustchain/shared";
import { encodeVaa, quorum, recoverSigner, vaaDigest } from "@rustchain/shared/bridge/vaa";

export interface CollectedVaa {
  digest: string;
  body: string;
  guardianSetIndex: number;
  signatures: number;
  quorum: number;
  /** The full VAA once at least a quorum of valid signatures is in. */
  vaa: string | null;
}

interface MessageAnswer {
  body: string;
  signatures: { guardianIndex: number; signature: string }[];
}

async function rpc(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (json.error) throw new Error(`${method}: ${json.error.message}`);
  return json.result;
}

export async function collectVaa(opts: {
  rpcUrls: readonly string[];
  emitterChain: number;
  emitterAddress: string;
  sequence: bigint;
  /** The destination's current guardian set. */
  guardianSet: { index: number; keys: readonly string[] };
  timeoutMs?: number;
}): Promise<CollectedVaa | undefined> {
  const answers = await Promise.all(
    opts.rpcUrls.map((url) =>
      rpc(
        url,
        "rustchain_getBridgeMessage",
        [`0x${opts.emitterChain.toString(16)}`, opts.emitterAddress, `0x${opts.sequence.toString(16)}`],
        opts.timeoutMs ?? 5_000,
      ).then(
        (r) => r as MessageAnswer | null,
        () => null,
      ),
    ),
  );
  const bodyHex = answers.find((a) => a)?.body;
  if (!bodyHex) return undefined;
  const body = hexToBytes(bodyHex);
  const digest = vaaDigest(body);
  const keys = opts.guardianSet.keys.map((k) => hexToBytes(k.toLowerCase()));
  const valid = new Map<number, Uint8Array>();
  for (const a of answers) {
    if (!a || a.body.toLowerCase() !== bodyHex.toLowerCase()) continue;
    for (const s of a.signatures) {
      const key = keys[s.guardianIndex];
      const sig = hexToBytes(s.signature);
      const signer = key && recoverSigner(digest, sig);
      if (signer && key && equalBytes(signer, key)) valid.set(s.guardianIndex, sig);
    }
  }
  const signatures = [...valid.entries()]
    .sort(([a], [b]) => a - b)
    .map(([guardianIndex, signature]) => ({ guardianIndex, signature }));
  const need = quorum(keys.length);
  return {
    digest: bytesToHex(digest),
    body: bodyHex,
    guardianSetIndex: opts.guardianSet.index,
    signatures: signatures.length,
    quorum: need,
    vaa:
      signatures.length >= need
        ? bytesToHex(
            encodeVaa({ guardianSetIndex: opts.guardianSet.index, signatures: signatures.slice(0, need), body }),
          )
        : null,
  };
}
