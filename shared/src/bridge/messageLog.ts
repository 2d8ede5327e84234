// Bridge messages as gateways publish them: Wormhole's core event, emitted by the gateway itself (docs/bridge.md,
// "Publishing a message"). Logs arrive JSON-RPC shaped (eth_getLogs) from both chains. The committee (validator)
// and the relayer build a message's body from its log with this one function, so they agree on every digest.
import { decodeAbiParameters, type Hex, toEventSelector } from "viem";
import { equalBytes, hexToBytes } from "../hex.ts";
import { toUniversalAddress, type VaaBody } from "./vaa.ts";

export const LOG_MESSAGE_PUBLISHED = toEventSelector(
  "LogMessagePublished(address indexed sender, uint64 sequence, uint32 nonce, bytes payload, uint8 consistencyLevel)",
);

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

/**
 * The message body a log carries, or undefined for a log that is not a well-formed LogMessagePublished of `gateway`
 * naming itself as sender (anything else a gateway emits, or a malformed event, is not a message).
 */
export function messageFromLog(
  log: RpcLog,
  emitterChain: number,
  gateway: Uint8Array,
  timestamp: number,
): VaaBody | undefined {
  if (log.removed || log.topics[0]?.toLowerCase() !== LOG_MESSAGE_PUBLISHED) return undefined;
  if (!equalBytes(hexToBytes(log.address.toLowerCase()), gateway)) return undefined;
  const sender = log.topics[1];
  if (!sender || !equalBytes(hexToBytes(sender), toUniversalAddress(gateway))) return undefined;
  try {
    const [sequence, nonce, payload, consistencyLevel] = decodeAbiParameters(
      [{ type: "uint64" }, { type: "uint32" }, { type: "bytes" }, { type: "uint8" }],
      log.data as Hex,
    );
    return {
      timestamp,
      nonce: Number(nonce),
      emitterChain,
      emitterAddress: toUniversalAddress(gateway),
      sequence: BigInt(sequence),
      consistencyLevel: Number(consistencyLevel),
      payload: hexToBytes(payload),
    };
  } catch {
    return undefined;
  }
}
