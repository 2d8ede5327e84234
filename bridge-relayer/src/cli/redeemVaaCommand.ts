// `rustchain bridge redeem --vaa <hex|base64>` and `redeem --wormhole <chain>/<emitter>/<sequence> --guardian-api <url>`:
// complete a Wormhole token-bridge transfer to RustChain on the Wormhole gateway (deployment.wormhole) from the user's
// account. The VAA is read within MAX_VAA_BYTES, verified here against the guardian set the gateway holds (the set it
// names, with its expiry), and described (emitter, sequence, token, amount, recipient) before anything is sent; a
// consumed one is refused as already redeemed, and a gateway refusal comes back as its code with what it means.
import { bytesToHex, hexToBytes } from "@rustchain/shared";
import { BridgeError } from "@rustchain/shared/bridge/errors";
import { decodeTokenBridgePayload } from "@rustchain/shared/bridge/payloads";
import {
  decodeVaa,
  fromUniversalAddress,
  MAX_VAA_BYTES,
  type Vaa,
  verifyVaa,
  WORMHOLE_CHAIN,
} from "@rustchain/shared/bridge/vaa";
import { erc20Abi, type Hex, zeroAddress } from "viem";
import type { WormholeDeployment } from "../deployment.ts";
import { gatewayAbi } from "../gatewayAbi.ts";
import { gatewayGuardianSet } from "../gatewayGuardianSet.ts";
import { fetchEnqueuedVaas, fetchSignedVaa, GuardianApiError, parseMessageId } from "../guardianApi.ts";
import { wormholeChainName } from "../wormholeWatcher.ts";
import { formatNormalized } from "./bridgeAmount.ts";
import { cliError } from "./bridgeCliError.ts";
import type { CliContext } from "./cliContext.ts";
import { gatewayEvents, sendToGateway } from "./gatewayCalls.ts";
import { destinationEvents } from "./transferStatus.ts";

export interface RedeemVaaOptions {
  vaa?: string;
  wormhole?: string;
  guardianApi?: string;
}

export interface RedeemVaaResult {
  digest: Hex;
  emitterChain: number;
  emitterAddress: Hex;
  sequence: string;
  guardianSetIndex: number;
  signatures: number;
  tokenChain: number;
  tokenAddress: Hex;
  /** The wrapped token on RustChain (the zero address when none is registered). */
  token: Hex;
  symbol: string | null;
  /** Normalised (8 decimals) as in the payload. */
  amount: string;
  fee: string;
  recipient: Hex;
  state: "completed" | "queued";
  tx: Hex;
  releaseTime: number | null;
}

/** A VAA as text: hex (0x optional) or base64 (standard or URL-safe), at most MAX_VAA_BYTES once decoded. */
export function parseVaaText(text: string): Uint8Array {
  const t = text.trim();
  const bad = (reason: string) => cliError({ code: "BAD_ARGUMENT", reason }, `--vaa: ${reason}`);
  if (t.length === 0) throw bad("empty");
  if (t.length > 2 * MAX_VAA_BYTES + 2)
    throw bad(`${t.length} characters: longer than any VAA (${MAX_VAA_BYTES} bytes)`);
  // A VAA starts with its version, 1: "01…" in hex, "A…" in base64 (six zero bits). So text of hex digits only is hex
  // unless it starts with "A" ("Ab0" is base64 of 01 bd).
  const hex = /^(0x)?([0-9a-fA-F]+)$/.exec(t);
  if (t.startsWith("0x") || (hex && !t.startsWith("A"))) {
    if (!hex) throw bad("0x followed by something that is not hex");
    if ((hex[2] as string).length % 2 !== 0) throw bad("odd number of hex digits");
    return hexToBytes(`0x${hex[2]}`);
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t) || t.replace(/=+$/, "").length % 4 === 1) throw bad("neither hex nor base64");
  return new Uint8Array(Buffer.from(t, t.includes("-") || t.includes("_") ? "base64url" : "base64"));
}

function wormholeOf(ctx: CliContext): WormholeDeployment {
  const w = ctx.deployment.wormhole;
  if (!w)
    throw cliError(
      { code: "DEPLOYMENT", reason: "no wormhole section" },
      `deployment file ${ctx.options.deployment} has no "wormhole" section (the Wormhole gateway on RustChain)`,
    );
  return w;
}

/** The VAA of `--wormhole <id>` from a guardian API; refused clearly while it is not signed (or held by the governor). */
async function vaaFromGuardians(
  ctx: CliContext,
  w: WormholeDeployment,
  id: string,
  baseUrl: string,
): Promise<Uint8Array> {
  const query = parseMessageId(id);
  if (!query)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: id },
      `--wormhole: "${id}" is not <chain>/<emitter: 64 hex digits>/<sequence>`,
    );
  const client = ctx.clients.rustchain;
  let answer: Awaited<ReturnType<typeof fetchSignedVaa>>;
  try {
    answer = await fetchSignedVaa({
      baseUrl,
      query,
      guardianSet: (index) => gatewayGuardianSet(client, w.gateway as Hex, index),
      now: Math.floor(Date.now() / 1000),
    });
  } catch (e) {
    if (e instanceof GuardianApiError)
      throw cliError(
        { code: "RPC", reason: e.type.reason },
        `guardian API ${baseUrl}: ${e.type.code}: ${e.type.reason}`,
      );
    throw invalidVaa(e);
  }
  if (answer.state === "signed") return answer.bytes;
  const queued = (await fetchEnqueuedVaas(baseUrl).catch(() => undefined))?.get(id);
  throw cliError(
    { code: "NOT_FOUND", reason: id },
    queued
      ? `${id} is held by the guardians' governor until ${new Date(queued.releaseTime * 1000).toISOString()}; try again after that`
      : `${id} is not signed by the guardians yet (the guardian API answers 404); try again later`,
  );
}

function invalidVaa(e: unknown) {
  if (e instanceof BridgeError) {
    const hint: Partial<Record<string, string>> = {
      VAA_MALFORMED: "not a Wormhole VAA",
      VAA_VERSION: "not a Wormhole VAA v1",
      VAA_UNKNOWN_GUARDIAN_SET: "signed by a guardian set the Wormhole gateway does not hold",
      VAA_GUARDIAN_SET_EXPIRED: "signed by a guardian set that has expired on the gateway; fetch it again",
      VAA_QUORUM: "too few guardian signatures for the gateway's guardian set",
      VAA_BAD_SIGNATURE: "a signature is not from the guardian at its index",
      VAA_SIGNATURE_ORDER: "guardian indices are not strictly ascending within the set",
      VAA_PAYLOAD: "the payload is not a token-bridge transfer",
    };
    return cliError(
      { code: "INVALID_VAA", bridgeCode: e.type.code, reason: e.type.reason },
      `${e.type.code}: ${hint[e.type.code] ?? e.type.reason} (${e.type.reason})`,
    );
  }
  return e;
}

export async function runRedeemVaa(ctx: CliContext, o: RedeemVaaOptions): Promise<RedeemVaaResult> {
  const w = wormholeOf(ctx);
  const gateway = w.gateway as Hex;
  const client = ctx.clients.rustchain;
  let bytes: Uint8Array;
  if (o.vaa !== undefined) bytes = parseVaaText(o.vaa);
  else {
    const baseUrl = o.guardianApi ?? w.guardianApiUrl;
    bytes = await vaaFromGuardians(ctx, w, o.wormhole ?? "", baseUrl);
  }
  let vaa: Vaa;
  let payload: ReturnType<typeof decodeTokenBridgePayload>;
  try {
    vaa = decodeVaa(bytes);
    verifyVaa(
      vaa,
      await gatewayGuardianSet(client, gateway, vaa.guardianSetIndex),
      Math.max(Math.floor(Date.now() / 1000), Number((await client.getBlock()).timestamp)),
    );
    payload = decodeTokenBridgePayload(vaa.payload);
  } catch (e) {
    throw invalidVaa(e);
  }
  if (payload.payloadId !== 1 && payload.payloadId !== 3)
    throw cliError(
      { code: "INVALID_VAA", bridgeCode: "VAA_PAYLOAD", reason: `payload ${payload.payloadId}` },
      `VAA_PAYLOAD: payload ${payload.payloadId} is not a token-bridge transfer (1 or 3)`,
    );
  if (payload.toChain !== WORMHOLE_CHAIN.rustchain)
    throw cliError(
      { code: "INVALID_VAA", bridgeCode: "VAA_WRONG_CHAIN", reason: `to chain ${payload.toChain}` },
      `VAA_WRONG_CHAIN: a transfer to ${wormholeChainName(payload.toChain)} (${payload.toChain}), not RustChain; redeem it there`,
    );
  const digest = bytesToHex(vaa.digest) as Hex;
  const at = { address: gateway, abi: gatewayAbi } as const;
  const token = (await client.readContract({
    ...at,
    functionName: "wrappedAsset",
    args: [payload.tokenChain, bytesToHex(payload.tokenAddress) as Hex],
  })) as Hex;
  const known = token !== zeroAddress;
  const [symbol, decimals] = known
    ? await Promise.all([
        client.readContract({ address: token, abi: erc20Abi, functionName: "symbol" }),
        client.readContract({ address: token, abi: erc20Abi, functionName: "decimals" }),
      ])
    : [null, 8];
  const show = (v: bigint) => (symbol ? `${formatNormalized(v, decimals)} ${symbol}` : `${v} (8-decimal units)`);
  const recipient = bytesToHex(fromUniversalAddress(payload.to)) as Hex;
  const fee = payload.payloadId === 1 ? payload.fee : 0n;
  const result: RedeemVaaResult = {
    digest,
    emitterChain: vaa.emitterChain,
    emitterAddress: bytesToHex(vaa.emitterAddress) as Hex,
    sequence: vaa.sequence.toString(),
    guardianSetIndex: vaa.guardianSetIndex,
    signatures: vaa.signatures.length,
    tokenChain: payload.tokenChain,
    tokenAddress: bytesToHex(payload.tokenAddress) as Hex,
    token,
    symbol,
    amount: payload.amount.toString(),
    fee: fee.toString(),
    recipient,
    state: "completed",
    tx: "0x",
    releaseTime: null,
  };
  ctx.out.progress(
    [
      `Wormhole transfer from ${wormholeChainName(vaa.emitterChain)} (emitter ${result.emitterAddress}), sequence ${result.sequence}`,
      `  ${show(payload.amount)} of token ${payload.tokenChain}/${result.tokenAddress}${known ? ` (${token} on RustChain)` : " (no wrapped token on RustChain yet)"}`,
      `  to ${recipient}${fee > 0n ? `, fee ${show(fee)} to whoever redeems` : ""}; ${vaa.signatures.length} guardian signatures of set ${vaa.guardianSetIndex}, verified`,
    ].join("\n"),
  );

  if (await client.readContract({ ...at, functionName: "isCompleted", args: [digest] })) {
    const queuedUntil = Number(await client.readContract({ ...at, functionName: "queuedUntil", args: [digest] }));
    const earlier = await destinationEvents(ctx, "rustchain", digest, { gateway, fromBlock: w.fromBlock });
    throw cliError(
      { code: "REVERTED", bridgeCode: "VAA_CONSUMED", reason: "consumed" },
      queuedUntil > 0
        ? `VAA_CONSUMED: already redeemed and queued by the gateway's governor until ${new Date(queuedUntil * 1000).toISOString()}; anyone may release it then`
        : `VAA_CONSUMED: already redeemed${earlier.completedTx ? ` (tx ${earlier.completedTx})` : ""}`,
    );
  }
  const receipt = await sendToGateway(
    ctx,
    "rustchain",
    ctx.wallet("rustchain", await ctx.account()),
    { functionName: "completeTransfer", args: [bytesToHex(bytes) as Hex] },
    {
      VAA_CONSUMED: "already redeemed",
      VAA_UNKNOWN_EMITTER: "its emitter is not a token bridge registered on RustChain's Wormhole gateway",
      ASSET_UNKNOWN: "no wrapped token for this asset on RustChain yet (its attestation has not been submitted)",
      ASSET_PAUSED: "the asset is paused on RustChain's Wormhole gateway",
      NOT_RECIPIENT: `only the recipient contract ${recipient} may redeem a transfer with payload`,
      VAA_QUORUM: "too few guardian signatures for the gateway's guardian set",
      VAA_GUARDIAN_SET_EXPIRED: "signed by a guardian set that has expired on the gateway",
      VAA_WRONG_CHAIN: "not a transfer to RustChain",
    },
    gateway,
  );
  result.tx = receipt.transactionHash;
  const events = gatewayEvents(receipt);
  const queued = events.find((e) => e.eventName === "TransferQueued");
  const completed = events.find((e) => e.eventName === "TransferCompleted");
  if (queued?.eventName === "TransferQueued") {
    result.state = "queued";
    result.releaseTime = Number(queued.args.releaseTime);
  }
  ctx.out.result(
    result.state === "queued"
      ? [
          `Queued by the gateway's governor until ${new Date((result.releaseTime ?? 0) * 1000).toISOString()} (tx ${result.tx}).`,
          `  digest: ${digest}`,
        ]
      : [
          `Completed on RustChain: tx ${result.tx}`,
          `  digest:    ${digest}`,
          `  recipient: ${recipient}`,
          ...(completed?.eventName === "TransferCompleted"
            ? [
                `  paid out:  ${show(completed.args.amount - completed.args.fee)} to the recipient, fee ${show(completed.args.fee)} to you`,
              ]
            : []),
        ],
    result,
  );
  return result;
}
