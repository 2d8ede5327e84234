// Token-bridge payloads (docs/bridge.md, "Payloads"): Wormhole's Transfer (1), AssetMeta (2) and TransferWithPayload
// (3) through the SDK's layouts, and our Refund (0x81). Amounts are normalised to 8 decimals; the helpers below are
// the one place the rule lives off-chain.
import { BridgeError } from "./errors.ts";
import { assetMetaLayout, decodeWith, encodeWith, transferLayout, transferWithPayloadLayout } from "./layouts.ts";

export interface TokenId {
  /** The token's home chain (Wormhole id). */
  tokenChain: number;
  /** Its address there, left-padded to 32 bytes; zero for the chain's native coin. */
  tokenAddress: Uint8Array;
}

export interface Transfer extends TokenId {
  payloadId: 1;
  amount: bigint;
  to: Uint8Array;
  toChain: number;
  fee: bigint;
}

export interface AssetMeta extends TokenId {
  payloadId: 2;
  decimals: number;
  symbol: string;
  name: string;
}

export interface TransferWithPayload extends TokenId {
  payloadId: 3;
  amount: bigint;
  to: Uint8Array;
  toChain: number;
  fromAddress: Uint8Array;
  payload: Uint8Array;
}

export interface Refund {
  payloadId: 0x81;
  /** The cancelled transfer's sequence on the gateway it came from (the one that pays the refund). */
  originalSequence: bigint;
  originalDigest: Uint8Array;
}

export type TokenBridgePayload = Transfer | AssetMeta | TransferWithPayload | Refund;

export const REFUND_PAYLOAD_ID = 0x81;
export const NORMALIZED_DECIMALS = 8;

type Wire = {
  token: { amount?: bigint; address: Uint8Array; chain: number };
  to: { address: Uint8Array; chain: number };
};

export function encodeTransfer(t: Omit<Transfer, "payloadId">): Uint8Array {
  return encodeWith(
    transferLayout,
    {
      token: { amount: t.amount, address: t.tokenAddress, chain: t.tokenChain },
      to: { address: t.to, chain: t.toChain },
      fee: t.fee,
    },
    "Transfer",
  );
}

export function encodeTransferWithPayload(t: Omit<TransferWithPayload, "payloadId">): Uint8Array {
  return encodeWith(
    transferWithPayloadLayout,
    {
      token: { amount: t.amount, address: t.tokenAddress, chain: t.tokenChain },
      to: { address: t.to, chain: t.toChain },
      from: t.fromAddress,
      payload: t.payload,
    },
    "TransferWithPayload",
  );
}

export function encodeAssetMeta(m: Omit<AssetMeta, "payloadId">): Uint8Array {
  return encodeWith(
    assetMetaLayout,
    {
      token: { address: m.tokenAddress, chain: m.tokenChain },
      decimals: m.decimals,
      symbol: fixedString(m.symbol),
      name: fixedString(m.name),
    },
    "AssetMeta",
  );
}

export function encodeRefund(r: Omit<Refund, "payloadId">): Uint8Array {
  if (r.originalDigest.length !== 32) throw new BridgeError({ code: "VAA_PAYLOAD", reason: "digest is 32 bytes" });
  const out = new Uint8Array(1 + 8 + 32);
  out[0] = REFUND_PAYLOAD_ID;
  new DataView(out.buffer).setBigUint64(1, r.originalSequence);
  out.set(r.originalDigest, 9);
  return out;
}

export function decodeTokenBridgePayload(bytes: Uint8Array): TokenBridgePayload {
  switch (bytes[0]) {
    case 1: {
      const w = decodeWith<Wire & { fee: bigint }>(transferLayout, bytes, "Transfer");
      return {
        payloadId: 1,
        amount: w.token.amount as bigint,
        tokenAddress: w.token.address,
        tokenChain: w.token.chain,
        to: w.to.address,
        toChain: w.to.chain,
        fee: w.fee,
      };
    }
    case 2: {
      const w = decodeWith<{
        token: { address: Uint8Array; chain: number };
        decimals: number;
        symbol: Uint8Array;
        name: Uint8Array;
      }>(assetMetaLayout, bytes, "AssetMeta");
      return {
        payloadId: 2,
        tokenAddress: w.token.address,
        tokenChain: w.token.chain,
        decimals: w.decimals,
        symbol: readFixedString(w.symbol),
        name: readFixedString(w.name),
      };
    }
    case 3: {
      const w = decodeWith<Wire & { from: Uint8Array; payload: Uint8Array }>(
        transferWithPayloadLayout,
        bytes,
        "TransferWithPayload",
      );
      return {
        payloadId: 3,
        amount: w.token.amount as bigint,
        tokenAddress: w.token.address,
        tokenChain: w.token.chain,
        to: w.to.address,
        toChain: w.to.chain,
        fromAddress: w.from,
        payload: w.payload,
      };
    }
    case REFUND_PAYLOAD_ID: {
      if (bytes.length !== 41)
        throw new BridgeError({ code: "VAA_PAYLOAD", reason: `Refund of ${bytes.length} bytes` });
      return {
        payloadId: REFUND_PAYLOAD_ID,
        originalSequence: new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(1),
        originalDigest: bytes.slice(9, 41),
      };
    }
    default:
      throw new BridgeError({ code: "VAA_PAYLOAD", reason: `unknown token-bridge payload id ${bytes[0]}` });
  }
}

/** The 8-decimal amount a transfer of `amount` units of a `decimals`-decimal token carries, and the dust left behind. */
export function normalizeAmount(amount: bigint, decimals: number): { normalized: bigint; dust: bigint } {
  if (decimals <= NORMALIZED_DECIMALS) return { normalized: amount, dust: 0n };
  const unit = 10n ** BigInt(decimals - NORMALIZED_DECIMALS);
  return { normalized: amount / unit, dust: amount % unit };
}

/** Back to the token's own units on its home chain. */
export function denormalizeAmount(normalized: bigint, decimals: number): bigint {
  return decimals <= NORMALIZED_DECIMALS ? normalized : normalized * 10n ** BigInt(decimals - NORMALIZED_DECIMALS);
}

/** Decimals of a wrapped token: min(d, 8), as Wormhole. */
export function wrappedDecimals(decimals: number): number {
  return Math.min(decimals, NORMALIZED_DECIMALS);
}

function fixedString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length > 32) throw new BridgeError({ code: "VAA_PAYLOAD", reason: `"${s}" is over 32 bytes` });
  const out = new Uint8Array(32);
  out.set(bytes);
  return out;
}

function readFixedString(b: Uint8Array): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return new TextDecoder().decode(b.subarray(0, end));
}
