// Every JSON-RPC method of the table answers the JSON its result schema (shared/src/rpc/results.ts) describes: a real
// one-validator devnet with a bridge gateway deployed, transactions of the three types and a contract log
// (LogMessagePublished), finalized and signed by the one-member bridge committee; then each method is called with
// valid parameters (over HTTP, the subscription methods over a WebSocket) and its answer parsed with its schema. The
// call table is typed over the method names, so a method added to `rpcMethods` without a call here does not compile.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GOVERNANCE_EMITTER } from "@rustchain/shared/bridge/governance";
import { LOG_MESSAGE_PUBLISHED, messageFromLog } from "@rustchain/shared/bridge/messageLog";
import { toUniversalAddress, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import type { RpcMethodName } from "@rustchain/shared/rpc/methods";
import { header, log as logSchema, parseResult, rpcResults } from "@rustchain/shared/rpc/results";
import {
  type Abi,
  createWalletClient,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  http,
  keccak256,
  toHex,
  zeroAddress,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildContracts } from "../contracts/build.ts";
import { bytesToHex, hexToBytes, signTransaction, type TxType } from "../shared/src/index.ts";
import { waitUntil } from "./support/cluster.ts";
import { DEV_KEYS, type Devnet, devnetChain, rpc, signedTransfer, startDevnet } from "./support/devnet.ts";

const CHAIN_ID = 21076n;
const deployer = privateKeyToAccount(DEV_KEYS[0]);
const sender = privateKeyToAccount(DEV_KEYS[1]);
const RECIPIENT = "0x00000000000000000000000000000000000000b0";
/** The gateway is the deployer's first contract on the fresh chain; the node watches it from the start. */
const gateway = getContractAddress({ from: deployer.address, nonce: 0n }).toLowerCase() as Hex;

interface World {
  devnet: Devnet;
  ws: WebSocket;
  /** Transaction hashes by what they are. */
  txs: { deploy: Hex; attest: Hex; legacy: Hex; accessList: Hex };
  attestBlock: { hash: Hex; number: Hex };
  filters: { logs: Hex; blocks: Hex; pending: Hex };
  bridge: { emitter: Hex; sequence: Hex; digest: Hex };
  gatewayAbi: Abi;
}
let w: World;

const receiptOf = (url: string, hash: Hex) =>
  waitUntil(
    `the receipt of ${hash}`,
    async () => ((await rpc(url, "eth_getTransactionReceipt", [hash])) as { status: string } | null) ?? undefined,
    20_000,
    100,
  );

/** A signed transfer of the given type from `sender`, sent raw. */
async function sendTransfer(url: string, type: TxType, nonce: bigint): Promise<Hex> {
  const stx = signTransaction(
    {
      type,
      chainId: CHAIN_ID,
      nonce,
      maxPriorityFeePerGas: 10n ** 9n,
      maxFeePerGas: 100n * 10n ** 9n,
      gasLimit: 30_000n,
      to: hexToBytes(RECIPIENT),
      value: 1000n,
      data: new Uint8Array(0),
      accessList: type === 0 ? [] : [{ address: hexToBytes(RECIPIENT), storageKeys: [new Uint8Array(32)] }],
    },
    hexToBytes(DEV_KEYS[1]),
  );
  return (await rpc(url, "eth_sendRawTransaction", [bytesToHex(stx.raw)])) as Hex;
}

/** One JSON-RPC call over the open WebSocket (other messages arriving meanwhile are left to their listeners). */
function wsCall(ws: WebSocket, method: string, params: unknown[]): Promise<unknown> {
  const id = Math.floor(Math.random() * 1e9);
  return new Promise((resolve, reject) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const msg = JSON.parse(raw.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id !== id) return;
      ws.off("message", onMessage);
      if (msg.error) reject(new Error(msg.error.message));
      else resolve(msg.result);
    };
    ws.on("message", onMessage);
    ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  });
}

/** The next eth_subscription notification for `subscription`. */
function nextNotification(ws: WebSocket, subscription: string): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const msg = JSON.parse(raw.toString()) as { method?: string; params?: { subscription: string; result: unknown } };
      if (msg.method !== "eth_subscription" || msg.params?.subscription !== subscription) return;
      ws.off("message", onMessage);
      resolve(msg.params.result);
    };
    ws.on("message", onMessage);
  });
}

beforeAll(async () => {
  const built = await buildContracts({ only: ["gateway", "wrapped_token"] });
  const devnet = await startDevnet({ slotMs: 250, extraArgs: ["--bridge-rustchain-gateway", gateway, "--rpc-debug"] });
  const url = devnet.url;
  const genesis = JSON.parse(await readFile(join(devnet.datadir, "genesis.json"), "utf8")) as {
    validators: { bridge: { address: Hex } }[];
  };
  const ws = new WebSocket(devnet.wsUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));

  const filters = {
    logs: (await rpc(url, "eth_newFilter", [{ address: gateway, fromBlock: "0x0" }])) as Hex,
    blocks: (await rpc(url, "eth_newBlockFilter")) as Hex,
    pending: (await rpc(url, "eth_newPendingTransactionFilter")) as Hex,
  };

  const transport = http(url);
  const wallet = createWalletClient({ account: deployer, chain: devnetChain, transport });
  const gatewayArtefact = built.gateway!;
  const deploy = await wallet.deployContract({
    abi: gatewayArtefact.abi,
    bytecode: gatewayArtefact.bytecode,
    args: [
      WORMHOLE_CHAIN.rustchain,
      genesis.validators.map((v) => v.bridge.address),
      0n,
      WORMHOLE_CHAIN.ethereum,
      toHex(toUniversalAddress(hexToBytes("0x00000000000000000000000000000000000000e1"))),
      keccak256(built.wrapped_token!.module),
      0,
      GOVERNANCE_EMITTER.chain,
      toHex(GOVERNANCE_EMITTER.address),
    ],
  } as never);
  expect((await receiptOf(url, deploy)).status).toBe("0x1");
  // attestToken(RTC) publishes a bridge message: the contract log of this chain, and what the committee signs.
  const attest = await wallet.writeContract({
    address: gateway,
    abi: gatewayArtefact.abi,
    functionName: "attestToken",
    args: [zeroAddress, 0],
  } as never);
  const legacy = await sendTransfer(url, 0, 0n);
  const accessList = await sendTransfer(url, 1, 1n);
  const attestReceipt = (await receiptOf(url, attest)) as {
    status: string;
    blockHash: Hex;
    blockNumber: Hex;
    logs: Parameters<typeof messageFromLog>[0][];
  };
  expect(attestReceipt.status).toBe("0x1");
  for (const h of [legacy, accessList]) expect((await receiptOf(url, h)).status).toBe("0x1");
  const published = attestReceipt.logs.find((l) => l.topics[0] === LOG_MESSAGE_PUBLISHED);
  const body = published && messageFromLog(published, WORMHOLE_CHAIN.rustchain, hexToBytes(gateway), 0);
  if (!body) throw new Error("attestToken published no LogMessagePublished");
  const emitter = bytesToHex(toUniversalAddress(hexToBytes(gateway)));
  const sequence = toHex(body.sequence);
  // The one validator signs the message once its block is final: a quorum of one, so the VAA follows.
  const signed = await waitUntil(
    "the committee's VAA",
    async () => {
      const m = (await rpc(url, "rustchain_getBridgeMessage", [
        toHex(WORMHOLE_CHAIN.rustchain),
        emitter,
        sequence,
      ])) as {
        digest: Hex;
        vaa: Hex | null;
      } | null;
      return m?.vaa ? m : undefined;
    },
    20_000,
    100,
  );
  w = {
    devnet,
    ws,
    txs: { deploy, attest, legacy, accessList },
    attestBlock: { hash: attestReceipt.blockHash, number: attestReceipt.blockNumber },
    filters,
    bridge: { emitter, sequence, digest: signed.digest },
    gatewayAbi: gatewayArtefact.abi,
  };
}, 60_000);

afterAll(async () => {
  w?.ws.close();
  await w?.devnet.stop();
  await w?.devnet.cleanup();
});

/** A call: its params and, optionally, what else the answer must be (so the interesting shapes are exercised). */
interface Call {
  params: unknown[];
  want?: "present" | "null" | "nonEmpty";
}

/** Every method of the table with valid calls; typed over RpcMethodName so none can be missing. */
function calls(): { [M in RpcMethodName]: Call[] } {
  const { txs, attestBlock: blk, filters, bridge } = w;
  const from = sender.address.toLowerCase();
  const anyTx = Object.values(txs).map((h) => ({ params: [h], want: "present" as const }));
  return {
    web3_clientVersion: [{ params: [] }],
    web3_sha3: [{ params: ["0x68656c6c6f"] }],
    net_version: [{ params: [] }],
    net_listening: [{ params: [] }],
    net_peerCount: [{ params: [] }],
    eth_chainId: [{ params: [] }],
    eth_syncing: [{ params: [] }],
    eth_blockNumber: [{ params: [] }],
    eth_gasPrice: [{ params: [] }],
    eth_maxPriorityFeePerGas: [{ params: [] }],
    eth_feeHistory: [{ params: ["0x4", "latest", [25, 75]] }, { params: ["0x2", blk.number] }],
    eth_accounts: [{ params: [] }],
    eth_getBalance: [{ params: [from, "latest"] }, { params: [from, blk.hash] }],
    eth_getTransactionCount: [{ params: [from, "latest"] }, { params: [from, "pending"] }],
    eth_getCode: [{ params: [gateway, "latest"], want: "nonEmpty" }],
    eth_getStorageAt: [{ params: [gateway, "0x0", "latest"] }],
    eth_call: [
      {
        params: [{ to: gateway, data: encodeFunctionData({ abi: w.gatewayAbi, functionName: "nextSequence" }) }],
        want: "nonEmpty",
      },
    ],
    eth_estimateGas: [{ params: [{ from, to: RECIPIENT, value: "0x1" }] }],
    eth_sendRawTransaction: [
      {
        params: [bytesToHex(signedTransfer(CHAIN_ID, hexToBytes(DEV_KEYS[2]), 0n, hexToBytes(RECIPIENT), 1n).raw)],
      },
    ],
    eth_getTransactionByHash: [...anyTx, { params: [`0x${"ee".repeat(32)}`], want: "null" }],
    eth_getTransactionByBlockHashAndIndex: [{ params: [blk.hash, "0x0"], want: "present" }],
    eth_getTransactionByBlockNumberAndIndex: [
      { params: [blk.number, "0x0"], want: "present" },
      { params: [blk.number, "0xff"], want: "null" },
    ],
    eth_getTransactionReceipt: [...anyTx, { params: [`0x${"ee".repeat(32)}`], want: "null" }],
    eth_getBlockReceipts: [
      { params: [blk.hash], want: "nonEmpty" },
      { params: ["latest"], want: "present" },
    ],
    eth_getBlockByNumber: [
      { params: ["latest", false], want: "present" },
      { params: [blk.number, true], want: "present" },
      { params: ["0xffffff", false], want: "null" },
    ],
    eth_getBlockByHash: [
      { params: [blk.hash, true], want: "present" },
      { params: [blk.hash, false], want: "present" },
      { params: [`0x${"ee".repeat(32)}`, false], want: "null" },
    ],
    eth_getBlockTransactionCountByNumber: [{ params: [blk.number], want: "present" }],
    eth_getBlockTransactionCountByHash: [{ params: [blk.hash], want: "present" }],
    eth_getUncleCountByBlockNumber: [{ params: [blk.number], want: "present" }],
    eth_getUncleCountByBlockHash: [{ params: [blk.hash], want: "present" }],
    eth_getLogs: [{ params: [{ fromBlock: "0x0", toBlock: "latest", address: gateway }], want: "nonEmpty" }],
    eth_getProof: [{ params: [gateway, [`0x${"00".repeat(32)}`], "latest"] }],
    eth_newFilter: [{ params: [{ address: gateway }] }],
    eth_newBlockFilter: [{ params: [] }],
    eth_newPendingTransactionFilter: [{ params: [] }],
    eth_getFilterChanges: [
      { params: [filters.logs], want: "nonEmpty" },
      { params: [filters.blocks], want: "nonEmpty" },
      { params: [filters.pending] },
    ],
    eth_getFilterLogs: [{ params: [filters.logs], want: "nonEmpty" }],
    eth_uninstallFilter: [{ params: [filters.pending] }],
    eth_subscribe: [{ params: ["newHeads"] }, { params: ["logs", { address: gateway }] }],
    eth_unsubscribe: [{ params: ["0x00000000000000000000000000000000"] }],
    rustchain_finalityStatus: [{ params: [] }],
    rustchain_validators: [{ params: [], want: "nonEmpty" }],
    rustchain_aiScores: [{ params: [] }],
    rustchain_feeParams: [{ params: [] }],
    rustchain_getFinalityCertificate: [
      { params: ["finalized"], want: "present" },
      { params: ["latest"] },
      { params: [`0x${"ee".repeat(32)}`], want: "null" },
    ],
    rustchain_getFinalityCertificates: [{ params: ["0x0", "0x40"], want: "nonEmpty" }],
    rustchain_getBridgeSignatures: [
      { params: [bridge.digest], want: "present" },
      { params: [`0x${"ee".repeat(32)}`], want: "null" },
    ],
    rustchain_getBridgeMessage: [
      { params: [toHex(WORMHOLE_CHAIN.rustchain), bridge.emitter, bridge.sequence], want: "present" },
      { params: [toHex(WORMHOLE_CHAIN.rustchain), bridge.emitter, "0xffff"], want: "null" },
    ],
    // Traces (tests/traces.e2e.test.ts checks them against the calls): a contract call with its log, a creation, a
    // plain transfer, and a call.
    debug_traceTransaction: [
      { params: [txs.attest, { tracer: "callTracer", tracerConfig: { withLog: true } }], want: "present" },
      { params: [txs.deploy, { tracer: "callTracer" }], want: "present" },
      { params: [txs.legacy, { tracer: "callTracer", tracerConfig: { onlyTopCall: true } }], want: "present" },
    ],
    debug_traceCall: [
      {
        params: [
          { to: gateway, data: encodeFunctionData({ abi: w.gatewayAbi, functionName: "nextSequence" }) },
          "latest",
          { tracer: "callTracer" },
        ],
        want: "present",
      },
    ],
  };
}

const WS_METHODS = new Set<RpcMethodName>(["eth_subscribe", "eth_unsubscribe"]);

describe("every method's answer matches its result schema", () => {
  it.each(Object.keys(rpcResults) as RpcMethodName[])("%s", async (method) => {
    for (const call of calls()[method]) {
      const result = WS_METHODS.has(method)
        ? await wsCall(w.ws, method, call.params)
        : await rpc(w.devnet.url, method, call.params);
      const label = `${method}(${JSON.stringify(call.params)}) = ${JSON.stringify(result)?.slice(0, 300)}`;
      const parsed = rpcResults[method].safeParse(result);
      expect(parsed.error?.issues ?? [], label).toEqual([]);
      if (call.want === "null") expect(result, label).toBeNull();
      if (call.want === "present") expect(result, label).not.toBeNull();
      // Non-empty: an array with an element, data with a byte.
      if (call.want === "nonEmpty")
        expect(result, label).not.toSatisfy((r) => r === "0x" || (Array.isArray(r) && !r.length));
    }
  });
});

describe("the answers exercise every shape", () => {
  it("transactions of the three types and a contract creation, as mined objects", async () => {
    const types = new Set<string>();
    for (const h of Object.values(w.txs)) {
      const tx = parseResult("eth_getTransactionByHash", await rpc(w.devnet.url, "eth_getTransactionByHash", [h]));
      types.add(tx?.type ?? "none");
      expect(tx?.blockHash).not.toBeNull();
    }
    expect([...types].sort()).toEqual(["0x0", "0x1", "0x2"]);
    const creation = parseResult(
      "eth_getTransactionReceipt",
      await rpc(w.devnet.url, "eth_getTransactionReceipt", [w.txs.deploy]),
    );
    expect(creation?.to).toBeNull();
    expect(creation?.contractAddress).toBe(gateway);
  });

  it("a block with whole transactions carries the attest transaction and its receipt its log", async () => {
    const block = parseResult(
      "eth_getBlockByHash",
      await rpc(w.devnet.url, "eth_getBlockByHash", [w.attestBlock.hash, true]),
    );
    expect(block?.transactions.some((t) => typeof t === "object" && t.hash === w.txs.attest)).toBe(true);
    const receipt = parseResult(
      "eth_getTransactionReceipt",
      await rpc(w.devnet.url, "eth_getTransactionReceipt", [w.txs.attest]),
    );
    expect(receipt?.logs.map((l) => l.topics[0])).toContain(LOG_MESSAGE_PUBLISHED);
  });

  it("the bridge message carries the committee's signature and the VAA", async () => {
    const m = parseResult(
      "rustchain_getBridgeSignatures",
      await rpc(w.devnet.url, "rustchain_getBridgeSignatures", [w.bridge.digest]),
    );
    expect(m?.signatures).toHaveLength(1);
    expect(m?.quorum).toBe(1);
    expect(m?.vaa).not.toBeNull();
  });

  it("WebSocket notifications: a newHeads header and a logs entry match the header and log schemas", async () => {
    const heads = (await wsCall(w.ws, "eth_subscribe", ["newHeads"])) as string;
    const head = await nextNotification(w.ws, heads);
    expect(header.safeParse(head).error?.issues ?? []).toEqual([]);
    expect(await wsCall(w.ws, "eth_unsubscribe", [heads])).toBe(true);
    // A second attestToken publishes another message: its log reaches the logs subscription.
    const logs = (await wsCall(w.ws, "eth_subscribe", ["logs", { address: gateway }])) as string;
    const next = nextNotification(w.ws, logs);
    const wallet = createWalletClient({ account: deployer, chain: devnetChain, transport: http(w.devnet.url) });
    await wallet.writeContract({
      address: gateway,
      abi: w.gatewayAbi,
      functionName: "attestToken",
      args: [zeroAddress, 1],
    } as never);
    expect(logSchema.safeParse(await next).error?.issues ?? []).toEqual([]);
    expect(await wsCall(w.ws, "eth_unsubscribe", [logs])).toBe(true);
  });
});
