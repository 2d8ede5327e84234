// Governance payloads (docs/bridge.md, "Governance"): module (32 bytes, ASCII left-padded) · action · chain · fields.
// Core 2 is Wormhole's guardian-set upgrade byte for byte, Core 3 its SetMessageFee, Core 4 its TransferFees; TokenBridge 1 is Wormhole's
// RegisterChain; the RustChainBridge module holds our pause and governor actions. Governance VAAs come from
// GOVERNANCE_EMITTER for the Ethereum bridge, from WORMHOLE_GOVERNANCE_EMITTER (wormhole.ts) for the Wormhole gateway.
import { bigintToBytes32, bytesToBigint, concatBytes } from "../hex.ts";
import { BridgeError } from "./errors.ts";
import { WORMHOLE_CHAIN } from "./vaa.ts";

export const GOVERNANCE_EMITTER = {
  chain: WORMHOLE_CHAIN.rustchain,
  address: Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 4 : 0)),
} as const;

export type GovernanceAction =
  | { module: "Core"; action: 2; chain: number; newIndex: number; keys: Uint8Array[] }
  | { module: "Core"; action: 3; chain: number; fee: bigint }
  /** Pay `amount` (wei) of the collected message fees to `recipient` (32 bytes, a left-padded address). */
  | { module: "Core"; action: 4; chain: number; amount: bigint; recipient: Uint8Array }
  | { module: "TokenBridge"; action: 1; chain: number; emitterChain: number; emitterAddress: Uint8Array }
  | {
      module: "RustChainBridge";
      action: 1;
      chain: number;
      tokenChain: number;
      tokenAddress: Uint8Array;
      paused: boolean;
    }
  | {
      module: "RustChainBridge";
      action: 2;
      chain: number;
      tokenChain: number;
      tokenAddress: Uint8Array;
      dailyLimit: bigint;
      threshold: bigint;
      delay: number;
    };

const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

function moduleBytes(name: string): Uint8Array {
  const out = new Uint8Array(32);
  const ascii = new TextEncoder().encode(name);
  out.set(ascii, 32 - ascii.length);
  return out;
}

function header(module: string, action: number, chain: number): Uint8Array {
  return concatBytes(moduleBytes(module), Uint8Array.of(action), u16(chain));
}

function bytes32(b: Uint8Array, what: string): Uint8Array {
  if (b.length !== 32) throw new BridgeError({ code: "GOVERNANCE", reason: `${what} is 32 bytes` });
  return b;
}

export function encodeGuardianSetUpgrade(a: { chain: number; newIndex: number; keys: Uint8Array[] }): Uint8Array {
  if (a.keys.length === 0 || a.keys.length > 255 || a.keys.some((k) => k.length !== 20))
    throw new BridgeError({ code: "GOVERNANCE", reason: "1 to 255 guardian addresses of 20 bytes" });
  return concatBytes(header("Core", 2, a.chain), u32(a.newIndex), Uint8Array.of(a.keys.length), ...a.keys);
}

export function encodeSetMessageFee(a: { chain: number; fee: bigint }): Uint8Array {
  return concatBytes(header("Core", 3, a.chain), bigintToBytes32(a.fee));
}

export function encodeTransferFees(a: { chain: number; amount: bigint; recipient: Uint8Array }): Uint8Array {
  return concatBytes(header("Core", 4, a.chain), bigintToBytes32(a.amount), bytes32(a.recipient, "recipient"));
}

export function encodeRegisterChain(a: { chain: number; emitterChain: number; emitterAddress: Uint8Array }) {
  return concatBytes(header("TokenBridge", 1, a.chain), u16(a.emitterChain), bytes32(a.emitterAddress, "emitter"));
}

export function encodeSetPaused(a: { chain: number; tokenChain: number; tokenAddress: Uint8Array; paused: boolean }) {
  return concatBytes(
    header("RustChainBridge", 1, a.chain),
    u16(a.tokenChain),
    bytes32(a.tokenAddress, "token address"),
    Uint8Array.of(a.paused ? 1 : 0),
  );
}

export function encodeSetGovernor(a: {
  chain: number;
  tokenChain: number;
  tokenAddress: Uint8Array;
  dailyLimit: bigint;
  threshold: bigint;
  delay: number;
}): Uint8Array {
  return concatBytes(
    header("RustChainBridge", 2, a.chain),
    u16(a.tokenChain),
    bytes32(a.tokenAddress, "token address"),
    bigintToBytes32(a.dailyLimit),
    bigintToBytes32(a.threshold),
    u32(a.delay),
  );
}

export function encodeGovernance(a: GovernanceAction): Uint8Array {
  if (a.module === "Core")
    return a.action === 2
      ? encodeGuardianSetUpgrade(a)
      : a.action === 3
        ? encodeSetMessageFee(a)
        : encodeTransferFees(a);
  if (a.module === "TokenBridge") return encodeRegisterChain(a);
  return a.action === 1 ? encodeSetPaused(a) : encodeSetGovernor(a);
}

/** Decode and bound-check a governance payload; anything unknown or of the wrong length is GOVERNANCE. */
export function decodeGovernance(p: Uint8Array): GovernanceAction {
  const fail = (reason: string): never => {
    throw new BridgeError({ code: "GOVERNANCE", reason });
  };
  if (p.length < 35) fail(`payload of ${p.length} bytes`);
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let start = 0;
  while (start < 32 && p[start] === 0) start++;
  const module = new TextDecoder().decode(p.subarray(start, 32));
  const action = p[32] as number;
  const chain = view.getUint16(33);
  const body = p.subarray(35);
  const need = (n: number) => body.length === n || fail(`${module} action ${action}: ${body.length} bytes, not ${n}`);
  if (module === "Core" && action === 2) {
    if (body.length < 5) fail("guardian set upgrade too short");
    const n = body[4] as number;
    need(5 + 20 * n);
    if (n === 0) fail("empty guardian set");
    const keys = Array.from({ length: n }, (_, i) => body.slice(5 + 20 * i, 25 + 20 * i));
    return { module, action, chain, newIndex: view.getUint32(35), keys };
  }
  if (module === "Core" && action === 3) {
    need(32);
    return { module, action, chain, fee: bytesToBigint(body) };
  }
  if (module === "Core" && action === 4) {
    need(64);
    return { module, action, chain, amount: bytesToBigint(body.subarray(0, 32)), recipient: body.slice(32, 64) };
  }
  if (module === "TokenBridge" && action === 1) {
    need(34);
    return { module, action, chain, emitterChain: view.getUint16(35), emitterAddress: body.slice(2, 34) };
  }
  if (module === "RustChainBridge" && action === 1) {
    need(35);
    return {
      module,
      action,
      chain,
      tokenChain: view.getUint16(35),
      tokenAddress: body.slice(2, 34),
      paused: body[34] !== 0,
    };
  }
  if (module === "RustChainBridge" && action === 2) {
    need(2 + 32 + 32 + 32 + 4);
    return {
      module,
      action,
      chain,
      tokenChain: view.getUint16(35),
      tokenAddress: body.slice(2, 34),
      dailyLimit: bytesToBigint(body.subarray(34, 66)),
      threshold: bytesToBigint(body.subarray(66, 98)),
      delay: view.getUint32(35 + 98),
    };
  }
  return fail(`unknown action ${action} of module "${module}"`);
}
