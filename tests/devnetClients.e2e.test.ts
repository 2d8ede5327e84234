// viem and ethers, unmodified, against `rustchain devnet` running as a child process.
import { JsonRpcProvider, Wallet } from "ethers";
import {
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  parseEther,
  parseGwei,
  webSocket,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../shared/src/hex.ts";
import { signTransaction } from "../shared/src/transaction.ts";
import { DEV_KEYS, type Devnet, devnetChain, rpc, startDevnet } from "./support/devnet.ts";

let devnet: Devnet;
let client: PublicClient;

beforeAll(async () => {
  devnet = await startDevnet({ slotMs: 500 });
  client = createPublicClient({ chain: devnetChain, transport: http(devnet.url) }) as PublicClient;
});

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

async function rpcError(method: string, params: unknown[]): Promise<{ code: number; message: string }> {
  const res = await fetch(devnet.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { error?: { code: number; message: string } };
  expect(body.error, `expected an error from ${method}`).toBeDefined();
  return body.error as { code: number; message: string };
}

describe("viem", () => {
  it("reads the funded dev balance and chain id", async () => {
    const account = privateKeyToAccount(DEV_KEYS[0]);
    expect(await client.getChainId()).toBe(21076);
    expect(await client.getBalance({ address: account.address })).toBeGreaterThan(parseEther("9000"));
  });

  it("sends an EIP-1559 transfer; balances change by exactly value + fee", async () => {
    const account = privateKeyToAccount(DEV_KEYS[1]);
    const wallet = createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const before = await client.getBalance({ address: account.address });
    const value = parseEther("1.5");
    const hash = await wallet.sendTransaction({ to, value });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
    expect(receipt.status).toBe("success");
    expect(receipt.type).toBe("eip1559");
    expect(receipt.gasUsed).toBe(21000n);
    const after = await client.getBalance({ address: account.address, blockNumber: receipt.blockNumber });
    expect(before - after).toBe(value + receipt.gasUsed * receipt.effectiveGasPrice);
    expect(await client.getBalance({ address: to })).toBe(value);
    const tx = await client.getTransaction({ hash });
    expect(tx.blockNumber).toBe(receipt.blockNumber);
    expect(tx.from.toLowerCase()).toBe(account.address.toLowerCase());
  });

  it("watchBlocks over WebSocket sees every block with no gap", async () => {
    const wsClient = createPublicClient({ chain: devnetChain, transport: webSocket(devnet.wsUrl) });
    const seen: bigint[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only saw ${seen.length} blocks`)), 20_000);
      const unwatch = wsClient.watchBlocks({
        emitMissed: false,
        onBlock: (block) => {
          seen.push(block.number as bigint);
          if (seen.length === 8) {
            clearTimeout(timer);
            unwatch();
            resolve();
          }
        },
        onError: reject,
      });
    });
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe((seen[i - 1] as bigint) + 1n);
    await wsClient.transport.getRpcClient().then((c) => c.close());
  });

  it("block filters report new block hashes through eth_getFilterChanges", async () => {
    const filter = await client.createBlockFilter();
    // Straight RPC: viem caches getBlockNumber for its polling interval.
    const blockNumber = async () => BigInt((await rpc(devnet.url, "eth_blockNumber")) as string);
    const start = await blockNumber();
    while ((await blockNumber()) < start + 3n) await new Promise((r) => setTimeout(r, 100));
    const hashes = await client.getFilterChanges({ filter });
    expect(hashes.length).toBeGreaterThanOrEqual(3);
    for (const h of hashes) expect((await client.getBlock({ blockHash: h })).hash).toBe(h);
    expect(await client.getFilterChanges({ filter })).toEqual([]);
    expect(await client.uninstallFilter({ filter })).toBe(true);
  });
});

describe("WebSocket subscriptions and metrics", () => {
  it("newPendingTransactions announces a submitted transaction; /metrics counts blocks and RPC calls", async () => {
    const wsClient = createPublicClient({ chain: devnetChain, transport: webSocket(devnet.wsUrl) });
    const account = privateKeyToAccount(DEV_KEYS[6]);
    const wallet = createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });
    const seen = new Set<string>();
    const unwatch = wsClient.watchPendingTransactions({
      onTransactions: (hs) => {
        for (const h of hs) seen.add(h);
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    const hash = await wallet.sendTransaction({ to: account.address, value: 1n });
    const deadline = Date.now() + 5_000;
    while (!seen.has(hash) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    unwatch();
    expect(seen.has(hash)).toBe(true);
    await wsClient.transport.getRpcClient().then((c) => c.close());

    const metrics = await (await fetch(devnet.metricsUrl)).text();
    expect(Number(/^rustchain_blocks_imported_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/rustchain_rpc_request_seconds_count\{method="eth_sendRawTransaction"\} [1-9]/);
    expect(metrics).toMatch(/^rustchain_mempool_transactions \d+/m);
  });
});

describe("eth_getProof", () => {
  it("account proofs verify against the block's state root", async () => {
    const { blake3, verifyTrieProof } = await import("../shared/src/index.ts");
    const { decodeAccount } = await import("../validator/src/state/account.ts");
    const address = privateKeyToAccount(DEV_KEYS[0]).address;
    const block = await client.getBlock({ blockTag: "latest" });
    const proof = await client.getProof({ address, storageKeys: [`0x${"00".repeat(32)}`], blockNumber: block.number });
    const value = await verifyTrieProof(
      blake3,
      hexToBytes(block.stateRoot),
      blake3(hexToBytes(address)),
      proof.accountProof.map(hexToBytes),
    );
    expect(value).toBeDefined();
    const account = decodeAccount(value as Uint8Array);
    expect(account.balance).toBe(proof.balance);
    expect(account.balance).toBe(await client.getBalance({ address, blockNumber: block.number }));
    expect(BigInt(account.nonce)).toBe(BigInt(proof.nonce));
    expect(bytesToHex(account.storageRoot)).toBe(proof.storageHash);
    // A proof checked against another block's root fails.
    const genesis = await client.getBlock({ blockNumber: 0n });
    await expect(
      verifyTrieProof(
        blake3,
        hexToBytes(genesis.stateRoot),
        blake3(hexToBytes(address)),
        proof.accountProof.map(hexToBytes),
      ),
    ).rejects.toThrow();
  });
});

describe("ethers", () => {
  it("sends a legacy transfer and its own hash check passes", async () => {
    const provider = new JsonRpcProvider(devnet.url, 21076, { staticNetwork: true, batchMaxCount: 1 });
    provider.pollingInterval = 100;
    const wallet = new Wallet(DEV_KEYS[2], provider);
    const to = Wallet.createRandom().address;
    const before = await provider.getBalance(wallet.address);
    // ethers compares the node's returned hash with keccak256(raw) and throws if they differ.
    const sent = await wallet.sendTransaction({ to, value: 12345n, type: 0, gasPrice: parseGwei("2") });
    const receipt = await sent.wait();
    expect(receipt?.status).toBe(1);
    expect(receipt?.hash).toBe(sent.hash);
    const after = await provider.getBalance(wallet.address, receipt?.blockNumber);
    expect(before - after).toBe(12345n + (receipt?.gasUsed ?? 0n) * (receipt?.gasPrice ?? 0n));
    expect(await provider.getBalance(to)).toBe(12345n);
    const tx = await provider.getTransaction(sent.hash);
    expect(tx?.type).toBe(0);
    expect(tx?.chainId).toBe(21076n);
    provider.destroy();
  });
});

describe("rejections carry geth's JSON-RPC errors", () => {
  const sign = (key: string, over: Partial<Parameters<typeof signTransaction>[0]> = {}) =>
    signTransaction(
      {
        type: 2,
        chainId: 21076n,
        nonce: 0n,
        maxPriorityFeePerGas: 10n ** 9n,
        maxFeePerGas: 10n ** 11n,
        gasLimit: 21000n,
        to: hexToBytes("0x000000000000000000000000000000000000dead"),
        value: 1n,
        data: new Uint8Array(0),
        accessList: [],
        ...over,
      },
      hexToBytes(key),
    );

  it("nonce too low", async () => {
    const key = DEV_KEYS[3];
    const first = sign(key);
    await rpc(devnet.url, "eth_sendRawTransaction", [bytesToHex(first.raw)]);
    const wallet = createWalletClient({
      account: privateKeyToAccount(key),
      chain: devnetChain,
      transport: http(devnet.url),
    });
    await client.waitForTransactionReceipt({ hash: bytesToHex(first.hash), pollingInterval: 100 });
    const again = sign(key, { value: 2n });
    const err = await rpcError("eth_sendRawTransaction", [bytesToHex(again.raw)]);
    expect(err.code).toBe(-32000);
    expect(err.message).toMatch(/^nonce too low/);
    // viem classifies it from the message.
    await expect(
      wallet.sendTransaction({ to: "0x000000000000000000000000000000000000dEaD", value: 1n, nonce: 0 }),
    ).rejects.toThrow(/nonce.*(too low|lower)/i);
  });

  it("insufficient funds", async () => {
    const err = await rpcError("eth_sendRawTransaction", [bytesToHex(sign(generatePrivateKey()).raw)]);
    expect(err.code).toBe(-32000);
    expect(err.message).toMatch(/^insufficient funds for gas \* price \+ value/);
  });

  it("wrong chain id", async () => {
    const err = await rpcError("eth_sendRawTransaction", [bytesToHex(sign(DEV_KEYS[4], { chainId: 1n }).raw)]);
    expect(err.code).toBe(-32000);
    expect(err.message).toMatch(/invalid chain id/);
  });

  it("bad signature (high s, zero r)", async () => {
    const good = sign(DEV_KEYS[4]);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const { encodeTransaction } = await import("../shared/src/transaction.ts");
    const highS = encodeTransaction({ ...good.tx, s: n - good.tx.s });
    const zeroR = encodeTransaction({ ...good.tx, r: 0n });
    for (const raw of [highS, zeroR]) {
      const err = await rpcError("eth_sendRawTransaction", [bytesToHex(raw)]);
      expect(err.code).toBe(-32000);
      expect(err.message).toBe("invalid transaction v, r, s values");
    }
  });

  it("underpriced replacement is refused; a 10% bump replaces", async () => {
    const key = DEV_KEYS[5];
    const nonce = BigInt(
      (await rpc(devnet.url, "eth_getTransactionCount", [privateKeyToAccount(key).address, "pending"])) as string,
    );
    // Leave a nonce gap so the transaction stays pooled while we try to replace it.
    const queued = sign(key, { nonce: nonce + 1n });
    await rpc(devnet.url, "eth_sendRawTransaction", [bytesToHex(queued.raw)]);
    const sameFee = sign(key, { nonce: nonce + 1n, value: 99n });
    const err = await rpcError("eth_sendRawTransaction", [bytesToHex(sameFee.raw)]);
    expect(err.code).toBe(-32000);
    expect(err.message).toBe("replacement transaction underpriced");
    const again = await rpcError("eth_sendRawTransaction", [bytesToHex(queued.raw)]);
    expect(again.message).toBe("already known");
    const bumped = sign(key, {
      nonce: nonce + 1n,
      value: 99n,
      maxFeePerGas: 11n * 10n ** 10n,
      maxPriorityFeePerGas: 11n * 10n ** 8n,
    });
    await rpc(devnet.url, "eth_sendRawTransaction", [bytesToHex(bumped.raw)]);
    // Fill the gap: both are mined, and the replacement (not the original) is the one included.
    await rpc(devnet.url, "eth_sendRawTransaction", [bytesToHex(sign(key, { nonce }).raw)]);
    const receipt = await client.waitForTransactionReceipt({ hash: bytesToHex(bumped.hash), pollingInterval: 100 });
    expect(receipt.status).toBe("success");
    expect(await rpc(devnet.url, "eth_getTransactionByHash", [bytesToHex(queued.hash)])).toBeNull();
  });
});
