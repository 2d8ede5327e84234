// Hostile contracts: runaway loops, deep recursion and memory growth end as failed transactions paid for by the
// sender; invalid modules are refused at deploy with clear errors; the node keeps producing blocks throughout.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, type Hex, http, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toArtefact } from "../contracts/build.ts";
import { Gas } from "../validator/src/runtime/gasSchedule.ts";
import { compileC } from "./support/compileContract.ts";
import { DEV_KEYS, type Devnet, devnetChain, rpc, startDevnet } from "./support/devnet.ts";

const account = privateKeyToAccount(DEV_KEYS[7]);
let devnet: Devnet;
let work: string;

const client = () => createPublicClient({ chain: devnetChain, transport: http(devnet.url) });
const wallet = () => createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });

async function deploy(module: Uint8Array): Promise<Hex> {
  const hash = await wallet().sendTransaction({ data: toHex(toArtefact(module)), gas: 5_000_000n });
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
  expect(receipt.status).toBe("success");
  return receipt.contractAddress as Hex;
}

async function sendRawError(data: Uint8Array): Promise<{ code: number; message: string }> {
  const signed = await account.signTransaction({
    chainId: devnetChain.id,
    type: "eip1559",
    nonce: await client().getTransactionCount({ address: account.address, blockTag: "pending" }),
    gas: 10_000_000n,
    maxFeePerGas: 10n ** 11n,
    maxPriorityFeePerGas: 10n ** 9n,
    data: toHex(toArtefact(data)),
  });
  const res = await fetch(devnet.url, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [signed] }),
  });
  const body = (await res.json()) as { error?: { code: number; message: string } };
  expect(body.error, "deploy should be refused").toBeDefined();
  return body.error as { code: number; message: string };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "rustchain-hostile-"));
  devnet = await startDevnet({ slotMs: 500 });
});

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
  await rm(work, { recursive: true, force: true });
});

describe("hostile contracts", () => {
  let startBlock: bigint;

  it("an infinite loop runs out of gas: the sender pays for all of it and state is unchanged", async () => {
    startBlock = await client().getBlockNumber({ cacheTime: 0 });
    const looper = await deploy(
      await compileC(
        work,
        "loop",
        `static volatile uint32_t sink;
         RC_EXPORT("call") void call(void) {
           uint8_t one[32] = {0}; one[31] = 1;
           uint8_t slot[32] = {0};
           rc_host_storage_write(slot, one);
           for (;;) sink++;
         }`,
      ),
    );
    const before = await client().getBalance({ address: account.address });
    const gas = 2_000_000n;
    const hash = await wallet().sendTransaction({ to: looper, data: "0x12345678", gas });
    const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
    expect(receipt.status).toBe("reverted");
    expect(receipt.gasUsed).toBe(gas);
    const after = await client().getBalance({ address: account.address, blockNumber: receipt.blockNumber });
    expect(before - after).toBe(gas * receipt.effectiveGasPrice);
    expect(await client().getStorageAt({ address: looper, slot: toHex(0, { size: 32 }) })).toBe(toHex(0, { size: 32 }));
    // eth_call reports it as out of gas rather than hanging.
    await expect(
      rpc(devnet.url, "eth_call", [{ to: looper, data: "0x12345678", gas: "0x100000" }, "latest"]),
    ).rejects.toThrow(/out of gas/);
  });

  it("deep recursion is stopped by the deterministic stack-height limit", async () => {
    const recurser = await deploy(
      await compileC(
        work,
        "recurse",
        `static volatile uint32_t sink;
         static uint32_t deep(uint32_t n);
         static uint32_t (*volatile next)(uint32_t) = deep;
         static uint32_t deep(uint32_t n) { if (n == 0) return sink; uint32_t r = next(n - 1); sink = r; return r + 1; }
         RC_EXPORT("call") void call(void) {
           uint8_t word[32];
           rc_host_calldata_copy(word, 0, 32);
           uint32_t depth = ((uint32_t)word[28] << 24) | ((uint32_t)word[29] << 16) | ((uint32_t)word[30] << 8) | word[31];
           uint32_t r = deep(depth);
           rc_host_finish(&r, 4);
         }`,
      ),
    );
    const depth = (n: number) => toHex(n, { size: 32 });
    // Within the limit it works...
    expect(await rpc(devnet.url, "eth_call", [{ to: recurser, data: depth(500), gas: "0x2000000" }, "latest"])).toBe(
      "0xf4010000",
    );
    // ...beyond it the frame traps with the stack limit, long before the engine's own stack would.
    await expect(
      rpc(devnet.url, "eth_call", [{ to: recurser, data: depth(100_000), gas: "0x2000000" }, "latest"]),
    ).rejects.toThrow(/stack height limit exceeded/);
    const hash = await wallet().sendTransaction({ to: recurser, data: depth(100_000), gas: 3_000_000n });
    expect((await client().waitForTransactionReceipt({ hash, pollingInterval: 100 })).status).toBe("reverted");
  });

  it("memory growth is priced per page and bounded at 64 pages", async () => {
    const grower = await deploy(
      await compileC(
        work,
        "grow",
        `RC_EXPORT("call") void call(void) {
           uint8_t word[32];
           rc_host_calldata_copy(word, 0, 32);
           int32_t r = __builtin_wasm_memory_grow(0, word[31]);
           rc_host_finish(&r, 4);
         }`,
      ),
    );
    const pages = (n: number) => toHex(n, { size: 32 });
    const gasFor = async (n: number) =>
      BigInt((await rpc(devnet.url, "eth_estimateGas", [{ to: grower, data: pages(n) }])) as string);
    const one = await gasFor(1);
    const four = await gasFor(4);
    // Calldata and instructions are the same for 1 and 4 pages: the difference is three more pages.
    expect(four - one).toBe(3n * Gas.memoryGrowPage);
    // Past the 64-page maximum, memory.grow fails (returns -1) instead of allocating.
    expect(await rpc(devnet.url, "eth_call", [{ to: grower, data: pages(200) }, "latest"])).toBe("0xffffffff");
    // Gas for the growth must be there up front: too little gas traps.
    await expect(
      rpc(devnet.url, "eth_call", [{ to: grower, data: pages(40), gas: toHex(one + Gas.memoryGrowPage) }, "latest"]),
    ).rejects.toThrow(/out of gas/);
  });

  it("invalid modules are refused at deploy with clear errors", async () => {
    const float = await compileC(
      work,
      "float",
      `static volatile float f = 1.5f; RC_EXPORT("call") void call(void) { f = f * 2.0f; }`,
    );
    expect((await sendRawError(float)).message).toMatch(/^invalid contract: .*float/i);

    const forbidden = await compileC(
      work,
      "forbidden",
      `__attribute__((import_module("env"), import_name("evil"))) void evil(void);
       RC_EXPORT("call") void call(void) { evil(); }`,
    );
    expect((await sendRawError(forbidden)).message).toMatch(/import.*env/i);

    const garbage = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff);
    expect((await sendRawError(garbage)).message).toMatch(/malformed/i);

    const big = await compileC(
      work,
      "big",
      `static const uint8_t blob[124 * 1024] = {1, 2, 3};
       RC_EXPORT("call") void call(void) { rc_host_finish(blob, sizeof blob); }`,
      4 * 65536,
    );
    expect(big.length).toBeGreaterThan(120 * 1024);
    expect((await sendRawError(big)).message).toMatch(
      /^invalid contract: wasm module is \d+ bytes, the limit is 122880$/,
    );
  });

  it("the node kept producing blocks throughout", async () => {
    // Liveness, not throughput: the chain moved on past the hostile transactions (on a loaded 2-core machine the
    // tests above may take fewer slots than blocks asked for here, so wait for them, bounded).
    let now = BigInt((await rpc(devnet.url, "eth_blockNumber")) as string);
    for (let i = 0; i < 60 && now <= startBlock + 5n; i++) {
      await new Promise((r) => setTimeout(r, 250));
      now = BigInt((await rpc(devnet.url, "eth_blockNumber")) as string);
    }
    expect(now).toBeGreaterThan(startBlock + 5n);
  });
});
