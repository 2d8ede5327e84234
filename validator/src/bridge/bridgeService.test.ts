// The committee duty in one process: a watcher reading gateway logs through JSON-RPC-shaped calls (a scripted source
// chain: this is a unit test of the code around the RPC), signing, storing on RocksDB, gossip validation of other
// members' signatures, and the VAA once a quorum signed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  blsKeypairFromSeed,
  bytesToHex,
  hexToBytes,
  keccak256,
  parseGenesis,
  privateKeyToAddress,
} from "@rustchain/shared";
import { LOG_MESSAGE_PUBLISHED, type RpcLog } from "@rustchain/shared/bridge/messageLog";
import { encodeTransfer } from "@rustchain/shared/bridge/payloads";
import { decodeVaa, toUniversalAddress, verifyVaa, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { AbiCoder } from "ethers";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { devnetGenesis } from "../cli/devnetGenesis.ts";
import { Database } from "../db/database.ts";
import { GossipValidationError } from "../network/errors.ts";
import { type BridgeMessageView, BridgeService, defaultBridgeOptions } from "./bridgeService.ts";
import { encodeBridgeSignature } from "./signatureGossip.ts";

const bridgeKeys = [1, 2, 3, 4].map((i) => keccak256(Uint8Array.of(0xbb, i)));
const genesis = parseGenesis(
  devnetGenesis(
    bridgeKeys.map((k, i) => ({
      secretKey: blsKeypairFromSeed(new Uint8Array(32).fill(i + 1)).secretKey,
      feeRecipient: `0x${"22".repeat(20)}`,
      bridgePrivateKey: k,
    })),
    1000,
  ),
);
const GATEWAY = hexToBytes("0x00000000000000000000000000000000000ea7e1");
const logger = pino({ level: "silent" });

/** A source chain: finalized height and gateway logs, answering eth_getBlockByNumber / eth_getLogs. */
function sourceChain() {
  const chain = { finalized: 10n, logs: [] as RpcLog[], calls: [] as string[] };
  const publish = (block: bigint, sequence: bigint, payload: Uint8Array, emitter = GATEWAY) =>
    chain.logs.push({
      address: bytesToHex(emitter),
      topics: [LOG_MESSAGE_PUBLISHED, bytesToHex(toUniversalAddress(emitter))],
      data: AbiCoder.defaultAbiCoder().encode(
        ["uint64", "uint32", "bytes", "uint8"],
        [sequence, 7, bytesToHex(payload), 1],
      ),
      blockNumber: `0x${block.toString(16)}`,
      blockHash: bytesToHex(new Uint8Array(32)),
      transactionHash: bytesToHex(new Uint8Array(32)),
      logIndex: "0x0",
    });
  const rpc = async (method: string, params: unknown[]) => {
    chain.calls.push(method);
    if (method === "eth_getBlockByNumber") {
      const tag = params[0] as string;
      const n = tag === "finalized" ? chain.finalized : BigInt(tag);
      return { number: `0x${n.toString(16)}`, timestamp: `0x${(1_700_000_000n + n).toString(16)}` };
    }
    if (method === "eth_getLogs") {
      const f = params[0] as { fromBlock: string; toBlock: string };
      return chain.logs.filter(
        (l) => BigInt(l.blockNumber) >= BigInt(f.fromBlock) && BigInt(l.blockNumber) <= BigInt(f.toBlock),
      );
    }
    throw new Error(`unexpected ${method}`);
  };
  return { chain, publish, rpc };
}

const payload = (amount: bigint) =>
  encodeTransfer({
    amount,
    tokenAddress: new Uint8Array(32),
    tokenChain: WORMHOLE_CHAIN.rustchain,
    to: toUniversalAddress(new Uint8Array(20).fill(5)),
    toChain: WORMHOLE_CHAIN.ethereum,
    fee: 0n,
  });

let dir: string;
const dbs = new Map<string, Database>();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bridge-"));
});
afterEach(async () => {
  for (const d of dbs.values()) await d.close();
  dbs.clear();
  await rm(dir, { recursive: true, force: true });
});

/** Each member's own datadir (opened once, reused on "restart"). */
async function dbOf(name: string): Promise<Database> {
  let d = dbs.get(name);
  if (!d) {
    d = await Database.open(join(dir, name));
    dbs.set(name, d);
  }
  return d;
}

async function member(index: number, rpc: (m: string, p: unknown[]) => Promise<unknown>, published: Uint8Array[] = []) {
  const db = await dbOf(`member-${index}`);
  const key = bridgeKeys[index]!;
  return new BridgeService(
    {
      ...defaultBridgeOptions,
      key: { privateKey: key, address: privateKeyToAddress(key) },
      rustchain: { gateway: GATEWAY, fromBlock: 0n },
      pollMs: 10,
    },
    {
      db,
      genesis,
      rustchainRpc: rpc,
      publish: async (d) => published.push(d),
      logger,
    },
  );
}

describe("bridge committee duty", () => {
  it("signs each final message once, gossips it, and survives a restart without re-reading old blocks", async () => {
    const src = sourceChain();
    src.publish(3n, 0n, payload(100n));
    src.publish(12n, 1n, payload(200n)); // not final yet
    const published: Uint8Array[] = [];
    const first = await member(1, src.rpc, published);
    await first.poll();
    expect(published).toHaveLength(1);
    const m0 = (await first.messageById(
      WORMHOLE_CHAIN.rustchain,
      toUniversalAddress(GATEWAY),
      0n,
    )) as BridgeMessageView;
    expect(m0.signatures).toHaveLength(1);
    expect(m0.signatures[0]!.guardianIndex).toBe(1);
    expect(m0.vaa).toBeNull();
    expect(await first.messageById(WORMHOLE_CHAIN.rustchain, toUniversalAddress(GATEWAY), 1n)).toBeNull();

    // A restart: the cursor is on disk; nothing is signed twice, and the next final block is read.
    src.chain.finalized = 20n;
    src.chain.calls.length = 0;
    const again = await member(1, src.rpc, published);
    await again.poll();
    expect(published).toHaveLength(2);
    const logQueries = src.chain.calls.filter((c) => c === "eth_getLogs").length;
    expect(logQueries).toBe(1);
  });

  it("collects the other members' gossiped signatures and serves a VAA once a quorum signed", async () => {
    const src = sourceChain();
    src.publish(3n, 5n, payload(42n));
    const gossip: Uint8Array[] = [];
    const members = await Promise.all([0, 1, 2].map((i) => member(i, src.rpc, gossip)));
    for (const m of members) await m.poll();
    const node = await member(3, src.rpc);
    for (const g of gossip) await node.onGossip(g);
    const view = (await node.messageById(
      WORMHOLE_CHAIN.rustchain,
      toUniversalAddress(GATEWAY),
      5n,
    )) as BridgeMessageView;
    expect(view.quorum).toBe(3);
    expect(view.signatures.map((s) => s.guardianIndex)).toEqual([0, 1, 2]);
    const vaa = decodeVaa(hexToBytes(view.vaa!));
    expect(vaa.sequence).toBe(5n);
    verifyVaa(vaa, node.currentSet, 0);
  });

  it("rejects a forged or misattributed signature and ignores one from an unknown set", async () => {
    const src = sourceChain();
    src.publish(3n, 9n, payload(1n));
    const gossip: Uint8Array[] = [];
    await (await member(0, src.rpc, gossip)).poll();
    const node = await member(3, src.rpc);
    const action = async (data: Uint8Array) =>
      node.onGossip(data).then(
        () => "accepted",
        (e) => (e instanceof GossipValidationError ? `${e.action} ${e.type.code}` : String(e)),
      );
    const [signed] = gossip;
    const { rlpDecode } = await import("@rustchain/shared");
    const [set, , sig, body] = rlpDecode(signed!) as Uint8Array[];
    expect(
      await action(encodeBridgeSignature({ guardianSetIndex: 0, guardianIndex: 2, signature: sig!, body: body! })),
    ).toBe("REJECT BRIDGE_SIGNATURE_INVALID");
    expect(
      await action(encodeBridgeSignature({ guardianSetIndex: 0, guardianIndex: 9, signature: sig!, body: body! })),
    ).toBe("REJECT BRIDGE_SIGNATURE_BAD_INDEX");
    expect(
      await action(encodeBridgeSignature({ guardianSetIndex: 1, guardianIndex: 0, signature: sig!, body: body! })),
    ).toBe("IGNORE BRIDGE_SIGNATURE_UNKNOWN_SET");
    expect(await action(Uint8Array.of(1, 2, 3))).toBe("REJECT BRIDGE_SIGNATURE_MALFORMED");
    expect(set).toBeDefined();
    expect(await action(signed!)).toBe("accepted");
  });
});
