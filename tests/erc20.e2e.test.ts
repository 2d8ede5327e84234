// The ERC-20 in C (contracts/examples/erc20.c) and its Rust twin (contracts/rust/examples/erc20_rs.rs), compiled to
// WebAssembly, pass the same tests: used with viem's erc20Abi and with ethers' Contract exactly as an EVM token.
import { Contract, ContractFactory, JsonRpcProvider, Wallet, WebSocketProvider } from "ethers";
import {
  createPublicClient,
  createWalletClient,
  erc20Abi,
  getContractAddress,
  type Hex,
  http,
  parseEther,
  parseEventLogs,
  webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContracts } from "../contracts/build.ts";
import { DEV_KEYS, type Devnet, devnetChain, startDevnet } from "./support/devnet.ts";

let devnet: Devnet;
let built: Record<string, { abi: unknown[]; bytecode: Hex }>;
const deployer = privateKeyToAccount(DEV_KEYS[0]);
const alice = privateKeyToAccount(DEV_KEYS[1]);
const bob = privateKeyToAccount(DEV_KEYS[2]);
const SUPPLY = parseEther("1000000");

beforeAll(async () => {
  built = (await buildContracts({ only: ["erc20", "erc20_rs"] })) as unknown as typeof built;
  devnet = await startDevnet({ slotMs: 500 });
});

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

describe.each(["erc20", "erc20_rs"])("%s", (name) => {
  let erc20: { abi: unknown[]; bytecode: Hex };
  beforeAll(() => {
    erc20 = built[name]!;
  });

  describe("ERC-20 with viem", () => {
    let token: Hex;
    const client = () => createPublicClient({ chain: devnetChain, transport: http(devnet.url) });
    const wallet = (account = deployer) =>
      createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });

    it("deploys at the CREATE address with constructor arguments; eth_getCode returns the module", async () => {
      const nonce = await client().getTransactionCount({ address: deployer.address });
      const hash = await wallet().deployContract({
        abi: erc20.abi,
        bytecode: erc20.bytecode,
        args: ["Rust Token", "RTK", 18, SUPPLY],
      });
      const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
      expect(receipt.status).toBe("success");
      token = receipt.contractAddress as Hex;
      expect(token.toLowerCase()).toBe(
        getContractAddress({ from: deployer.address, nonce: BigInt(nonce) }).toLowerCase(),
      );
      const code = await client().getCode({ address: token });
      expect(code?.startsWith("0x0061736d")).toBe(true);
      // The mint to the deployer is a Transfer from the zero address.
      const [mint] = parseEventLogs({ abi: erc20Abi, logs: receipt.logs, eventName: "Transfer" });
      expect(mint?.args).toEqual({
        from: "0x0000000000000000000000000000000000000000",
        to: deployer.address,
        value: SUPPLY,
      });
    });

    it("reads name, symbol, decimals, supply and balances through erc20Abi", async () => {
      const c = client();
      expect(await c.readContract({ address: token, abi: erc20Abi, functionName: "name" })).toBe("Rust Token");
      expect(await c.readContract({ address: token, abi: erc20Abi, functionName: "symbol" })).toBe("RTK");
      expect(await c.readContract({ address: token, abi: erc20Abi, functionName: "decimals" })).toBe(18);
      expect(await c.readContract({ address: token, abi: erc20Abi, functionName: "totalSupply" })).toBe(SUPPLY);
      expect(
        await c.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [deployer.address] }),
      ).toBe(SUPPLY);
    });

    it("estimates gas, transfers, and Transfer events decode from eth_getLogs and a WebSocket logs subscription", async () => {
      const c = client();
      const ws = createPublicClient({ chain: devnetChain, transport: webSocket(devnet.wsUrl) });
      const seen: { from?: string; to?: string; value?: bigint }[] = [];
      const unwatch = ws.watchContractEvent({
        address: token,
        abi: erc20Abi,
        eventName: "Transfer",
        onLogs: (logs) => {
          for (const l of logs) seen.push(l.args);
        },
      });
      await new Promise((r) => setTimeout(r, 300));
      const gas = await c.estimateContractGas({
        address: token,
        abi: erc20Abi,
        functionName: "transfer",
        args: [alice.address, 1000n],
        account: deployer,
      });
      expect(gas).toBeGreaterThan(21_000n);
      const hash = await wallet().writeContract({
        address: token,
        abi: erc20Abi,
        functionName: "transfer",
        args: [alice.address, 1000n],
        gas,
      });
      const receipt = await c.waitForTransactionReceipt({ hash, pollingInterval: 100 });
      expect(receipt.status).toBe("success");
      expect(receipt.gasUsed).toBeLessThanOrEqual(gas);
      expect(
        await c.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [alice.address] }),
      ).toBe(1000n);
      const logs = await c.getContractEvents({
        address: token,
        abi: erc20Abi,
        eventName: "Transfer",
        fromBlock: receipt.blockNumber,
        toBlock: receipt.blockNumber,
      });
      expect(logs.map((l) => l.args)).toEqual([{ from: deployer.address, to: alice.address, value: 1000n }]);
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      unwatch();
      expect(seen).toContainEqual({ from: deployer.address, to: alice.address, value: 1000n });
      await ws.transport.getRpcClient().then((r) => r.close());
    });

    it("approve, allowance and transferFrom", async () => {
      const c = client();
      let hash = await wallet(alice).writeContract({
        address: token,
        abi: erc20Abi,
        functionName: "approve",
        args: [bob.address, 400n],
      });
      await c.waitForTransactionReceipt({ hash, pollingInterval: 100 });
      expect(
        await c.readContract({
          address: token,
          abi: erc20Abi,
          functionName: "allowance",
          args: [alice.address, bob.address],
        }),
      ).toBe(400n);
      hash = await wallet(bob).writeContract({
        address: token,
        abi: erc20Abi,
        functionName: "transferFrom",
        args: [alice.address, bob.address, 300n],
      });
      const receipt = await c.waitForTransactionReceipt({ hash, pollingInterval: 100 });
      expect(receipt.status).toBe("success");
      expect(
        await c.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [bob.address] }),
      ).toBe(300n);
      expect(
        await c.readContract({
          address: token,
          abi: erc20Abi,
          functionName: "allowance",
          args: [alice.address, bob.address],
        }),
      ).toBe(100n);
    });

    it("a failing transfer shows its revert reason", async () => {
      await expect(
        wallet(bob).writeContract({
          address: token,
          abi: erc20Abi,
          functionName: "transfer",
          args: [alice.address, 10n ** 30n],
        }),
      ).rejects.toThrow(/ERC20: transfer amount exceeds balance/);
      await expect(
        client().simulateContract({
          address: token,
          abi: erc20Abi,
          functionName: "transferFrom",
          args: [alice.address, bob.address, 10_000n],
          account: bob,
        }),
      ).rejects.toThrow(/ERC20: insufficient allowance/);
    });
  });

  describe("ERC-20 with ethers", () => {
    it("deploys with ContractFactory, transfers, queries events, and shows revert reasons", async () => {
      const provider = new JsonRpcProvider(devnet.url, 21076, { staticNetwork: true, batchMaxCount: 1 });
      provider.pollingInterval = 100;
      const signer = new Wallet(DEV_KEYS[3], provider);
      const factory = new ContractFactory(erc20.abi as never, erc20.bytecode, signer);
      const deployed = await factory.deploy("Ethers Token", "ETK", 6, 5_000_000n);
      await deployed.waitForDeployment();
      const address = await deployed.getAddress();
      const token = new Contract(address, erc20.abi as never, signer);
      expect(await token.symbol()).toBe("ETK");
      expect(await token.decimals()).toBe(6n);
      const to = Wallet.createRandom().address;
      const tx = await token.transfer(to, 1234n);
      const receipt = await tx.wait();
      expect(receipt.status).toBe(1);
      expect(await token.balanceOf(to)).toBe(1234n);
      const events = await token.queryFilter(
        token.filters.Transfer(signer.address, to),
        receipt.blockNumber,
        receipt.blockNumber,
      );
      expect(events).toHaveLength(1);
      expect((events[0] as { args: unknown[] }).args.slice(0, 3)).toEqual([signer.address, to, 1234n]);
      await expect(token.transfer(to, 10n ** 40n)).rejects.toThrow(/ERC20: transfer amount exceeds balance/);

      // Allowances and transferFrom, with Transfer events arriving over a WebSocket subscription.
      const spender = new Wallet(DEV_KEYS[4], provider);
      const wsProvider = new WebSocketProvider(devnet.wsUrl, 21076, { staticNetwork: true });
      const wsToken = new Contract(address, erc20.abi as never, wsProvider);
      const received = new Promise<unknown[]>((resolve) => {
        void wsToken.on(wsToken.filters.Transfer(signer.address, spender.address), (...args: unknown[]) => {
          // ethers passes the decoded values and, last, the event payload.
          const payload = args.at(-1) as { args: unknown[] };
          resolve([...payload.args].slice(0, 3));
        });
      });
      await (await token.approve(spender.address, 700n)).wait();
      expect(await token.allowance(signer.address, spender.address)).toBe(700n);
      const asSpender = token.connect(spender) as Contract;
      await (await asSpender.transferFrom(signer.address, spender.address, 500n)).wait();
      expect(await token.allowance(signer.address, spender.address)).toBe(200n);
      expect(await token.balanceOf(spender.address)).toBe(500n);
      expect(await Promise.race([received, new Promise((r) => setTimeout(() => r("timeout"), 10_000))])).toEqual([
        signer.address,
        spender.address,
        500n,
      ]);
      await expect(asSpender.transferFrom(signer.address, spender.address, 201n)).rejects.toThrow(
        /ERC20: insufficient allowance/,
      );
      await wsToken.removeAllListeners();
      await wsProvider.destroy();
      provider.destroy();
    });
  });
});
