// Which token `--token` names on the chain a transfer leaves from: the chain's native coin (transferNative), a token
// of the deployment's list by symbol or address (its home ERC-20, or its wrapped token on the other chain), or any
// other ERC-20 by address (decimals and symbol read from it later).
import { NORMALIZED_DECIMALS, wrappedDecimals } from "@rustchain/shared/bridge/payloads";
import { type Address, getAddress, zeroAddress } from "viem";
import type { ChainName, Deployment } from "../deployment.ts";
import { cliError } from "./bridgeCliError.ts";

export const NATIVE_SYMBOL: Record<ChainName, string> = { ethereum: "ETH", rustchain: "RTC" };
export const NATIVE_DECIMALS = 18;

export interface BridgeToken {
  symbol: string;
  /** On the source chain; the zero address for its native coin. */
  address: Address;
  native: boolean;
  /** Decimals on the source chain (a wrapped token has at most 8); undefined: read `decimals()` from the token. */
  decimals: number | undefined;
  /** Wrapped on the source chain (burned when it leaves) rather than at home (escrowed). */
  wrapped: boolean | undefined;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function resolveToken(d: Deployment, source: ChainName, spec: string): BridgeToken {
  const here = d[source].wormholeChain;
  const listed = ADDRESS.test(spec)
    ? d.tokens.filter((t) => t[source]?.toLowerCase() === spec.toLowerCase())
    : d.tokens.filter((t) => t.symbol.toLowerCase() === spec.toLowerCase());
  const nativeHere = (t: Deployment["tokens"][number]) => t.homeChain === here && /^0x0{40}$/.test(t.homeAddress);
  const native = listed.find(nativeHere);
  if (native || (listed.length === 0 && isNativeSpec(source, spec)))
    return {
      symbol: NATIVE_SYMBOL[source],
      address: zeroAddress,
      native: true,
      decimals: native?.decimals ?? NATIVE_DECIMALS,
      wrapped: false,
    };
  const token = listed.find((t) => t[source]);
  if (token) {
    const wrapped = token.homeChain !== here;
    return {
      symbol: token.symbol,
      address: getAddress(token[source] as string),
      native: false,
      decimals: wrapped ? wrappedDecimals(token.decimals) : token.decimals,
      wrapped,
    };
  }
  if (listed.length > 0)
    throw cliError(
      { code: "UNKNOWN_TOKEN", token: spec },
      `token ${spec} has no address on ${source} in the deployment (its wrapped token is not created yet)`,
    );
  if (ADDRESS.test(spec))
    return { symbol: spec, address: getAddress(spec), native: false, decimals: undefined, wrapped: undefined };
  const known = [NATIVE_SYMBOL[source], ...d.tokens.filter((t) => t[source] && !nativeHere(t)).map((t) => t.symbol)];
  throw cliError(
    { code: "UNKNOWN_TOKEN", token: spec },
    `unknown token "${spec}" on ${source}: use one of ${[...new Set(known)].join(", ")} or a 0x token address`,
  );
}

function isNativeSpec(source: ChainName, spec: string): boolean {
  return spec.toUpperCase() === NATIVE_SYMBOL[source] || /^0x0{40}$/.test(spec);
}

/** How a token's amounts read: symbol and decimals on `chain`, for what gateways report (e.g. `outbound`). */
export function tokenOnChain(
  d: Deployment,
  chain: ChainName,
  address: string,
): { symbol: string; decimals: number } | undefined {
  if (/^0x0{40}$/.test(address)) return { symbol: NATIVE_SYMBOL[chain], decimals: NATIVE_DECIMALS };
  const t = d.tokens.find((x) => x[chain]?.toLowerCase() === address.toLowerCase());
  if (!t) return undefined;
  return {
    symbol: t.symbol,
    decimals: t.homeChain === d[chain].wormholeChain ? t.decimals : Math.min(t.decimals, NORMALIZED_DECIMALS),
  };
}

/** A payload's token (home chain, 32-byte home address) as the deployment lists it. */
export function tokenOfHome(
  d: Deployment,
  tokenChain: number,
  tokenAddress32: string,
): { symbol: string; decimals: number } | undefined {
  const address = `0x${tokenAddress32.replace(/^0x/, "").slice(-40)}`.toLowerCase();
  const t = d.tokens.find((x) => x.homeChain === tokenChain && x.homeAddress.toLowerCase() === address);
  if (t) return { symbol: t.symbol, decimals: t.decimals };
  if (/^0x0{40}$/.test(address)) {
    if (tokenChain === d.ethereum.wormholeChain) return { symbol: NATIVE_SYMBOL.ethereum, decimals: NATIVE_DECIMALS };
    if (tokenChain === d.rustchain.wormholeChain) return { symbol: NATIVE_SYMBOL.rustchain, decimals: NATIVE_DECIMALS };
  }
  return undefined;
}
