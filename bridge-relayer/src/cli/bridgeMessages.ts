// Finding a bridge message from what the user has: the hash of the transaction that published it (on either chain:
// its receipt's LogMessagePublished), or its digest (the committee's copy, else a scan of both gateways' logs). The
// body is built from the log and its block's timestamp with the shared `messageFromLog`, as the committee does, so
// the digest here is the one it signs.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { LOG_MESSAGE_PUBLISHED, messageFromLog, type RpcLog } from "@rustchain/shared/bridge/messageLog";
import { decodeTokenBridgePayload, type TokenBridgePayload } from "@rustchain/shared/bridge/payloads";
import { decodeVaaBody, encodeVaaBody, type VaaBody, vaaDigest } from "@rustchain/shared/bridge/vaa";
import { createPublicClient, type Hex, http, type Log, toHex } from "viem";
import { type ChainName, chainOf, type Deployment } from "../deployment.ts";
import { cliError } from "./bridgeCliError.ts";
import type { ChainPublicClients } from "./cliContext.ts";

export interface BridgeMessage {
  /** The chain whose gateway published it (its emitter). */
  sourceChain: ChainName;
  body: VaaBody;
  bodyHex: Hex;
  digest: Hex;
  /** Undefined for a payload that is not a token-bridge one. */
  payload: TokenBridgePayload | undefined;
  txHash?: Hex;
  blockNumber?: bigint;
}

const CHAINS: ChainName[] = ["ethereum", "rustchain"];
/** Within the RustChain RPC's eth_getLogs range limit (10 000 blocks); the scan goes back at most MAX blocks. */
const LOG_SCAN_BLOCKS = 2_000n;
const LOG_SCAN_MAX_BLOCKS = 200_000n;

export function otherChain(c: ChainName): ChainName {
  return c === "ethereum" ? "rustchain" : "ethereum";
}

function messageOf(sourceChain: ChainName, body: VaaBody, extra: { txHash?: Hex; blockNumber?: bigint }) {
  const encoded = encodeVaaBody(body);
  let payload: TokenBridgePayload | undefined;
  try {
    payload = decodeTokenBridgePayload(body.payload);
  } catch {
    payload = undefined;
  }
  return {
    sourceChain,
    body,
    bodyHex: bytesToHex(encoded) as Hex,
    digest: bytesToHex(vaaDigest(encoded)) as Hex,
    payload,
    ...extra,
  };
}

/** viem's log as eth_getLogs returns it, for `messageFromLog`. */
export function rpcLogOf(log: Log): RpcLog {
  return {
    address: log.address,
    topics: [...log.topics] as string[],
    data: log.data,
    blockNumber: toHex(log.blockNumber ?? 0n),
    blockHash: log.blockHash ?? "0x",
    transactionHash: log.transactionHash ?? "0x",
    logIndex: toHex(log.logIndex ?? 0),
    removed: log.removed,
  };
}

/** The messages `chain`'s gateway published in these logs (one transaction's, one block's). */
export function messagesOfLogs(d: Deployment, chain: ChainName, logs: RpcLog[], timestamp: number): BridgeMessage[] {
  const gateway = hexToBytes(d[chain].gateway.toLowerCase());
  const out: BridgeMessage[] = [];
  for (const log of logs) {
    const body = messageFromLog(log, d[chain].wormholeChain, gateway, timestamp);
    if (body)
      out.push(messageOf(chain, body, { txHash: log.transactionHash as Hex, blockNumber: BigInt(log.blockNumber) }));
  }
  return out;
}

/** The messages a transaction published, or undefined when `chain` has no such (mined) transaction. */
export async function messagesOfTx(
  d: Deployment,
  clients: ChainPublicClients,
  chain: ChainName,
  txHash: Hex,
): Promise<BridgeMessage[] | undefined> {
  const receipt = await clients[chain].getTransactionReceipt({ hash: txHash }).catch(() => undefined);
  if (!receipt) return undefined;
  const block = await clients[chain].getBlock({ blockNumber: receipt.blockNumber });
  return messagesOfLogs(d, chain, receipt.logs.map(rpcLogOf), Number(block.timestamp));
}

/** A message by its digest, from the committee's RPCs (they hold every message they signed). */
async function messageFromCommittee(d: Deployment, digest: Hex): Promise<BridgeMessage | undefined> {
  for (const url of d.rustchain.signatureRpcUrls) {
    const client = createPublicClient({ transport: http(url, { timeout: 5_000, retryCount: 0 }) });
    const answer = (await client
      .request({ method: "rustchain_getBridgeSignatures", params: [digest] } as never)
      .catch(() => null)) as { body?: string } | null;
    if (!answer?.body) continue;
    const encoded = hexToBytes(answer.body);
    if (bytesToHex(vaaDigest(encoded)) !== digest.toLowerCase()) continue; // not the message asked for
    const body = decodeVaaBody(encoded);
    const source = chainOf(d, body.emitterChain);
    if (!source) continue;
    return messageOf(source, body, {});
  }
  return undefined;
}

/** A message by its digest, from the gateways' logs (newest blocks first): for a message too new for the committee. */
async function messageFromLogs(
  d: Deployment,
  clients: ChainPublicClients,
  digest: Hex,
): Promise<BridgeMessage | undefined> {
  for (const chain of CHAINS) {
    const client = clients[chain];
    let to = await client.getBlockNumber({ cacheTime: 0 });
    const deployed = BigInt(d[chain].fromBlock);
    const first = to - LOG_SCAN_MAX_BLOCKS > deployed ? to - LOG_SCAN_MAX_BLOCKS : deployed;
    while (to >= first) {
      const from = to - LOG_SCAN_BLOCKS + 1n > first ? to - LOG_SCAN_BLOCKS + 1n : first;
      const logs = (await client.request({
        method: "eth_getLogs",
        params: [
          {
            address: d[chain].gateway as Hex,
            topics: [LOG_MESSAGE_PUBLISHED],
            fromBlock: toHex(from),
            toBlock: toHex(to),
          },
        ],
      })) as unknown as RpcLog[];
      const byBlock = new Map<string, RpcLog[]>();
      for (const log of logs) byBlock.set(log.blockNumber, [...(byBlock.get(log.blockNumber) ?? []), log]);
      for (const [number, blockLogs] of byBlock) {
        const block = await client.getBlock({ blockNumber: BigInt(number) });
        const found = messagesOfLogs(d, chain, blockLogs, Number(block.timestamp)).find(
          (m) => m.digest === digest.toLowerCase(),
        );
        if (found) return found;
      }
      to = from - 1n;
    }
  }
  return undefined;
}

/**
 * The messages a 32-byte hash names: those a transaction with this hash published (on either chain), else the message
 * with this digest. Empty when neither chain nor the committee knows it.
 */
export async function findMessages(d: Deployment, clients: ChainPublicClients, hash: Hex): Promise<BridgeMessage[]> {
  for (const chain of CHAINS) {
    // a receipt without messages of this chain's gateway: look on the other chain too (hashes are per chain)
    const found = await messagesOfTx(d, clients, chain, hash);
    if (found && found.length > 0) return found;
  }
  const byDigest = (await messageFromCommittee(d, hash)) ?? (await messageFromLogs(d, clients, hash));
  return byDigest ? [byDigest] : [];
}

/** The one transfer (payload 1 or 3) a hash names, or a clear refusal. */
export async function findTransfer(
  d: Deployment,
  clients: ChainPublicClients,
  hash: string,
): Promise<BridgeMessage & { payload: { payloadId: 1 | 3; toChain: number } }> {
  const h = txOrDigest(hash);
  const messages = await findMessages(d, clients, h);
  if (messages.length === 0)
    throw cliError(
      { code: "NOT_FOUND", reason: hash },
      `${hash}: neither a transaction on either chain nor the digest of a bridge message`,
    );
  const transfer = messages.find((m) => m.payload?.payloadId === 1 || m.payload?.payloadId === 3);
  if (!transfer)
    throw cliError({ code: "NOT_FOUND", reason: hash }, `${hash}: no bridge transfer in it (only other messages)`);
  return transfer as BridgeMessage & { payload: { payloadId: 1 | 3; toChain: number } };
}

export function txOrDigest(value: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    throw cliError(
      { code: "BAD_ARGUMENT", reason: value },
      `"${value}" is not a 0x transaction hash or digest (32 bytes hex)`,
    );
  return value.toLowerCase() as Hex;
}
