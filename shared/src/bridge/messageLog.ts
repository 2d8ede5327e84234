// Bridge messages as gateways publish them: Wormhole's core event, emitted by the gateway itself (docs/bridge.md,
// "Publishing a message"). Logs arrive JSON-RPC shaped (eth_getLogs) from both chains.
import { bytesToHex, equalBytes, hexToBytes, keccak256 } from "@rustchain/shared";
import { toUniversalAddress, type VaaBody } from "@rustchain/shared/bridge/vaa";
import { AbiCoder } from "ethers";

export const LOG_MESSAGE_PUBLISHED = bytesToHex(
  keccak256(new TextEncoder().encode("LogMessagePublished(address,uint64,uint32,bytes,uint8)")),
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

const abi = AbiCoder.defaultAbiCoder();

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
    const [sequence, nonce, payload, consistencyLevel] = abi.decode(["uint64", "uint32", "bytes", "uint8"], log.data);
    return {
      timestamp,
      nonce: Number(nonce),
      emitterChain,
      emitterAddress: toUniversalAddress(gateway),
      sequence: BigInt(sequence),
      consistencyLevel: Number(consistencyLevel),
      payload: hexToBytes(payload as string),
    };
  } catch {
    return undefined;
  }
}
