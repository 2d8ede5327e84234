// The C++ example contract (contracts/cpp/examples/model_registry.cpp, over contracts/cpp/rustchain.hpp) on a devnet,
// through viem: AI models registered on chain by their IPFS CID. The devnet's Proof-of-AI model is registered under
// the CID genesis names it by (`rustchain_aiScores`), read back, found by index and by its ModelRegistered log; a
// second registration, a CID that is not CIDv1 sha2-256, out-of-range dimensions and a long name are refused with the
// contract's reasons.
import { CID } from "multiformats/cid";
import {
  bytesToHex,
  createPublicClient,
  createWalletClient,
  type Hex,
  hexToBytes,
  http,
  keccak256,
  parseEventLogs,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContracts } from "../contracts/build.ts";
import { devnetAiModel } from "../validator/src/consensus/ai/devnetModel.ts";
import { modelCid } from "../validator/src/models/modelCid.ts";
import { DEV_KEYS, type Devnet, devnetChain, rpc, startDevnet } from "./support/devnet.ts";

type Artefact = { abi: unknown[]; bytecode: Hex };

let devnet: Devnet;
let registry: Artefact;
let address: Hex;
const owner = privateKeyToAccount(DEV_KEYS[0]);
const other = privateKeyToAccount(DEV_KEYS[1]);

const client = () => createPublicClient({ chain: devnetChain, transport: http(devnet.url) });
const wallet = (account = owner) => createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });

beforeAll(async () => {
  const built = await buildContracts();
  registry = built.model_registry as unknown as Artefact;
  devnet = await startDevnet({ slotMs: 500 });
  const hash = await wallet().deployContract({ abi: registry.abi, bytecode: registry.bytecode });
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
  expect(receipt.status).toBe("success");
  address = receipt.contractAddress as Hex;
}, 90_000);

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

const read = (functionName: string, args: unknown[] = []) =>
  client().readContract({ address, abi: registry.abi, functionName, args }) as Promise<unknown>;

async function register(cid: Hex, name: string, inputs: number, outputs: number, account = owner) {
  const hash = await wallet(account).writeContract({
    address,
    abi: registry.abi,
    functionName: "registerModel",
    args: [cid, name, inputs, outputs],
    chain: devnetChain,
  });
  return client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
}

describe("model registry (C++)", () => {
  const model = devnetAiModel();
  const cid = bytesToHex(modelCid(model).bytes);

  it("registers the chain's Proof-of-AI model by the CID genesis names, and answers it back", async () => {
    const ai = (await rpc(devnet.url, "rustchain_aiScores")) as { model: { cid: string } | null } | undefined;
    if (ai?.model) expect(ai.model.cid).toBe(modelCid(model).toString());
    expect(await read("modelCount")).toBe(0n);
    const receipt = await register(cid, "devnet PoAI 8-8-4", 8, 4);
    expect(receipt.status).toBe("success");
    const block = await client().getBlock({ blockNumber: receipt.blockNumber });
    const [who, registeredAt, inputs, outputs, name] = (await read("modelOf", [cid])) as [
      Hex,
      bigint,
      number,
      number,
      string,
    ];
    expect(who).toBe(owner.address);
    expect(registeredAt).toBe(block.timestamp);
    expect([inputs, outputs, name]).toEqual([8, 4, "devnet PoAI 8-8-4"]);
    expect(await read("modelCount")).toBe(1n);
    expect(await read("modelAt", [0n])).toBe(cid);
    expect(CID.decode(hexToBytes((await read("modelAt", [0n])) as Hex)).toString()).toBe(modelCid(model).toString());

    const [log] = parseEventLogs({ abi: registry.abi as never, logs: receipt.logs }) as unknown as {
      eventName: string;
      args: { cidHash: Hex; owner: Hex; cid: Hex; name: string };
    }[];
    expect(log?.eventName).toBe("ModelRegistered");
    expect(log?.args).toEqual({ cidHash: keccak256(cid), owner: owner.address, cid, name: "devnet PoAI 8-8-4" });
    // Found by the indexed CID hash over eth_getLogs.
    const found = (await rpc(devnet.url, "eth_getLogs", [
      {
        address,
        fromBlock: `0x${receipt.blockNumber.toString(16)}`,
        toBlock: `0x${receipt.blockNumber.toString(16)}`,
        topics: [null, keccak256(cid)],
      },
    ])) as { transactionHash: Hex }[];
    expect(found.map((l) => l.transactionHash)).toEqual([receipt.transactionHash]);
  });

  it("registers a chunked (dag-pb) model's CID for another owner", async () => {
    const big = new Uint8Array(300 * 1024).fill(7);
    const bigCid = modelCid(big);
    expect(bigCid.code).toBe(0x70);
    const receipt = await register(bytesToHex(bigCid.bytes), "big", 1024, 1, other);
    expect(receipt.status).toBe("success");
    expect(((await read("modelOf", [bytesToHex(bigCid.bytes)])) as unknown[])[0]).toBe(other.address);
    expect(await read("modelCount")).toBe(2n);
  });

  it("refuses a second registration, bad CIDs, bad dimensions, long names and unknown models with reasons", async () => {
    const sim = (args: unknown[]) =>
      client().simulateContract({ address, abi: registry.abi, functionName: "registerModel", args, account: other });
    const tail = cid.slice(10);
    await expect(sim([cid, "again", 8, 4])).rejects.toThrow(/ModelRegistry: already registered/);
    for (const bad of [`0x01551e20${tail}`, `0x00551220${tail}`, `0x01711220${tail}`, cid.slice(0, -2), "0x"]) {
      await expect(sim([bad, "x", 8, 4]), bad).rejects.toThrow(/ModelRegistry: not a CIDv1 sha2-256/);
    }
    const fresh = bytesToHex(modelCid(Uint8Array.of(1, 2, 3)).bytes);
    await expect(sim([fresh, "x", 0, 4])).rejects.toThrow(/inputs and outputs must be 1..1024/);
    await expect(sim([fresh, "x", 8, 1025])).rejects.toThrow(/inputs and outputs must be 1..1024/);
    await expect(sim([fresh, "n".repeat(65), 8, 4])).rejects.toThrow(/name over 64 bytes/);
    await expect(read("modelOf", [fresh])).rejects.toThrow(/ModelRegistry: unknown model/);
    await expect(read("modelAt", [5n])).rejects.toThrow(/index out of range/);
  });
});
