// The edge's end-to-end scenario, the same for both hosts (Node + Redis, and Workers under `wrangler dev`): viem and
// ethers are given ONLY the edge's HTTP and WebSocket URLs; the core's own URL is used only to compare answers and
// to read its request counters. The steps share one stack and run in order:
//   1. transfers sent back to back through the edge (viem wallet client with a local account, ethers Wallet):
//      every receipt arrives, status success, nonces consecutive, no "nonce too low", no replacement;
//   2. viem watchBlocks over the edge's WebSocket: a stretch of consecutive blocks with no gap, each readable over
//      HTTP at the edge when it is reported;
//   2b. eth_subscribe newPendingTransactions over the edge's WebSocket announces a transfer sent through the edge;
//   3. eth_getLogs through the edge equals the core's answer for ranges holding an ERC-20's Transfer logs;
//   4. the bad-input table (tests/support/badInputTable.ts): the edge answers every row exactly as the core does, and
//      nothing reaches the core's request counters or the proxy in front of its JSON-RPC;
//   5. the core restarted while the edge runs: finalized reads keep being served, writes fail with -32002 and
//      succeed once the core is back, the replica catches up with no gap.
import { type TransactionReceipt as EthersReceipt, JsonRpcProvider, type TransactionResponse, Wallet } from "ethers";
import {
  createPublicClient,
  createWalletClient,
  erc20Abi,
  type Hex,
  http,
  keccak256,
  parseEventLogs,
  parseGwei,
  type TransactionReceipt,
  webSocket,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContracts } from "../../contracts/build.ts";
import { badInputTable, postRaw, rowMismatches, type ServerAnswer } from "./badInputTable.ts";
import { DEV_KEYS, devnetChain } from "./devnet.ts";
import {
  call,
  coreRequestCounts,
  countDelta,
  type EdgeHost,
  type EdgeStack,
  type EdgeStackOptions,
  postRpc,
  startEdgeStack,
  waitFor,
} from "./edge.ts";

const CHAIN_ID = 21076;
const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const num = (v: unknown) => Number(BigInt(v as string));

interface Block {
  number: string;
  hash: string;
  parentHash: string;
}

/** Run `fn`; on failure add the processes' last log lines to the error (or wrap what was thrown if read-only). */
async function withLogs<T>(stack: EdgeStack, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const logs = stack.dumpLogs(30);
    if (e instanceof Error) {
      try {
        e.message = `${e.message}\n${logs}`;
        throw e;
      } catch (assigned) {
        if (assigned === e) throw e;
      }
    }
    // e.g. a WebSocket ErrorEvent, whose message is a getter.
    const what = `${(e as { type?: string })?.type ?? typeof e}: ${(e as { message?: string })?.message ?? String(e)}`;
    throw new Error(`${what}\n${logs}`, { cause: e });
  }
}

/** The edge's served head. */
const edgeHead = async (stack: EdgeStack) => num(await call(stack.url, "eth_blockNumber"));

/** Wait until the edge's replica serves block `n` (bounded). */
async function edgeReaches(stack: EdgeStack, n: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(`the edge to serve block ${n}`, async () => ((await edgeHead(stack)) >= n ? true : undefined), {
    timeoutMs,
    intervalMs: 100,
  });
}

/**
 * Registers the whole scenario as one `describe` of ordered tests against a fresh stack for `host`. The stack is
 * started in beforeAll and stopped in afterAll.
 */
export function describeEdgeEndToEnd(host: EdgeHost, opts: EdgeStackOptions = {}): void {
  describe(`edge end to end (${host})`, () => {
    let stack: EdgeStack;
    const viemSender = privateKeyToAccount(DEV_KEYS[1]);
    const ethersKey = DEV_KEYS[2];
    const deployer = privateKeyToAccount(DEV_KEYS[3]);
    const recipient = privateKeyToAccount(generatePrivateKey()).address;
    let erc20: { abi: unknown[]; bytecode: Hex };

    const client = () => createPublicClient({ chain: devnetChain, transport: http(stack.url) });
    const walletFor = (account: ReturnType<typeof privateKeyToAccount>) =>
      createWalletClient({ account, chain: devnetChain, transport: http(stack.url) });

    beforeAll(async () => {
      const built = await buildContracts({ only: ["erc20"] });
      erc20 = built.erc20 as unknown as { abi: unknown[]; bytecode: Hex };
      stack = await startEdgeStack(host, opts);
    }, 180_000);

    afterAll(async () => {
      await stack?.stop();
    });

    it("transfers sent back to back through the edge with viem and ethers all land, nonces consecutive", async () => {
      await withLogs(stack, async () => {
        const c = client();
        const wallet = walletFor(viemSender);
        const viemStart = await c.getTransactionCount({ address: viemSender.address, blockTag: "pending" });
        const hashes: Hex[] = [];
        for (let i = 0; i < 10; i++) {
          // Each send asks the edge for the pending nonce (forwarded to the core): a stale answer is "nonce too low".
          hashes.push(await wallet.sendTransaction({ to: recipient, value: 1000n + BigInt(i) }));
        }

        // cacheTimeout -1: ethers otherwise shares identical requests made within 250 ms, so a second send right after
        // the first would reuse the first's pending nonce whatever the server answers.
        const provider = new JsonRpcProvider(stack.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
        provider.pollingInterval = 100;
        const ethersWallet = new Wallet(ethersKey, provider);
        const sent: TransactionResponse[] = [];
        for (let i = 0; i < 5; i++)
          sent.push(await ethersWallet.sendTransaction({ to: recipient, value: 2000n + BigInt(i) }));

        const replaced: unknown[] = [];
        const receipts: TransactionReceipt[] = await Promise.all(
          hashes.map((hash) =>
            c.waitForTransactionReceipt({
              hash,
              pollingInterval: 100,
              timeout: 60_000,
              onReplaced: (r) => replaced.push(r),
            }),
          ),
        );
        const ethersReceipts = (await Promise.all(sent.map((t) => t.wait(1, 60_000)))) as EthersReceipt[];
        // destroy() rejects the requests still queued for ethers' next batch, and a receipt poll left queued by the
        // waits above has no one to catch it (an unhandled rejection fails the run). Stop the polls, then let one last
        // request through the queue: everything queued before it has been answered when it returns.
        await provider.removeAllListeners();
        await provider.send("eth_blockNumber", []);
        provider.destroy();

        expect(replaced).toEqual([]);
        expect(receipts.map((r) => r.status)).toEqual(Array(10).fill("success"));
        expect(ethersReceipts.map((r) => r.status)).toEqual(Array(5).fill(1));
        const viemNonces = await Promise.all(hashes.map(async (hash) => (await c.getTransaction({ hash })).nonce));
        expect(viemNonces).toEqual(Array.from({ length: 10 }, (_, i) => viemStart + i));
        const ethersNonces = sent.map((t) => t.nonce);
        expect(ethersNonces).toEqual(Array.from({ length: 5 }, (_, i) => (ethersNonces[0] as number) + i));
        // The receipts read through the edge are the core's.
        for (const r of receipts) {
          const mine = await call(stack.url, "eth_getTransactionReceipt", [r.transactionHash]);
          expect(JSON.stringify(mine)).toBe(
            JSON.stringify(await call(stack.core.url, "eth_getTransactionReceipt", [r.transactionHash])),
          );
        }
        // A receipt the replica does not hold yet is forwarded to the core, so wait for the replica before reading
        // state at "latest".
        await edgeReaches(
          stack,
          Math.max(...receipts.map((r) => Number(r.blockNumber)), ...ethersReceipts.map((r) => r.blockNumber)),
        );
        expect(await c.getBalance({ address: recipient })).toBe(
          Array.from({ length: 10 }, (_, i) => 1000n + BigInt(i)).reduce((a, b) => a + b) +
            Array.from({ length: 5 }, (_, i) => 2000n + BigInt(i)).reduce((a, b) => a + b),
        );
      });
    }, 90_000);

    it("viem watchBlocks over the edge's WebSocket sees consecutive blocks, each readable over HTTP when reported", async () => {
      await withLogs(stack, async () => {
        const ws = createPublicClient({ chain: devnetChain, transport: webSocket(stack.wsUrl) });
        const seen: { number: bigint; hash: Hex }[] = [];
        const readable: Promise<{ number: bigint; hash: Hex; atEdge: Block | null }>[] = [];
        const WANT = 12;
        try {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`only saw ${seen.length} blocks: ${seen.map((b) => b.number).join(",")}`)),
              40_000,
            );
            const unwatch = ws.watchBlocks({
              emitMissed: false,
              onBlock: (block) => {
                if (seen.length >= WANT) return;
                const b = { number: block.number as bigint, hash: block.hash as Hex };
                seen.push(b);
                // Asked the moment the notification arrives.
                readable.push(
                  call(stack.url, "eth_getBlockByNumber", [hex(b.number), false]).then((r) => ({
                    ...b,
                    atEdge: r as Block | null,
                  })),
                );
                if (seen.length === WANT) {
                  clearTimeout(timer);
                  unwatch();
                  resolve();
                }
              },
              onError: (e) => {
                clearTimeout(timer);
                const what = e instanceof Error ? e.message : `${(e as { type?: string }).type ?? "error"} event`;
                reject(new Error(`WebSocket failed after ${seen.length} blocks: ${what}`, { cause: e }));
              },
            });
          });
        } finally {
          await ws.transport
            .getRpcClient()
            .then((c) => c.close())
            .catch(() => undefined);
        }
        for (let i = 1; i < seen.length; i++) expect(seen[i]?.number).toBe((seen[i - 1]?.number as bigint) + 1n);
        for (const r of await Promise.all(readable)) {
          expect(r.atEdge, `block ${r.number} readable at the edge when notified`).not.toBeNull();
          expect(r.atEdge?.hash).toBe(r.hash);
        }
        // And they are the core's blocks.
        for (const b of seen) {
          const core = (await call(stack.core.url, "eth_getBlockByNumber", [hex(b.number), false])) as Block;
          expect(core.hash).toBe(b.hash);
        }
      });
    }, 60_000);

    it("eth_subscribe newPendingTransactions over the edge's WebSocket announces a transfer sent through the edge", async () => {
      await withLogs(stack, async () => {
        const sock = new WebSocket(stack.wsUrl);
        const messages: { id?: number; result?: unknown; params?: { subscription: string; result: unknown } }[] = [];
        sock.onmessage = (ev) => messages.push(JSON.parse(String(ev.data)));
        try {
          await new Promise<void>((resolve, reject) => {
            sock.onopen = () => resolve();
            sock.onerror = () => reject(new Error("WebSocket to the edge failed"));
          });
          sock.send(
            JSON.stringify({ jsonrpc: "2.0", id: 7, method: "eth_subscribe", params: ["newPendingTransactions"] }),
          );
          const subId = await waitFor("the subscription id", async () => messages.find((m) => m.id === 7)?.result, {
            timeoutMs: 15_000,
            intervalMs: 20,
          });
          expect(subId).toMatch(/^0x[0-9a-f]+$/);
          const hash = await walletFor(viemSender).sendTransaction({ to: recipient, value: 1n });
          await waitFor(
            `the newPendingTransactions notification for ${hash}`,
            async () =>
              messages.some((m) => m.params?.subscription === subId && m.params?.result === hash) ? true : undefined,
            { timeoutMs: 15_000, intervalMs: 20 },
          );
          const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 60_000 });
          expect(receipt.status).toBe("success");
        } finally {
          sock.close();
        }
      });
    }, 60_000);

    it("eth_getLogs through the edge equals the core's answer for ranges holding ERC-20 Transfer logs", async () => {
      await withLogs(stack, async () => {
        const c = client();
        const wallet = walletFor(deployer);
        const supply = 10n ** 24n;
        const deployHash = await wallet.deployContract({
          abi: erc20.abi,
          bytecode: erc20.bytecode,
          args: ["Edge Token", "EDG", 18, supply],
        });
        const deployed = await c.waitForTransactionReceipt({ hash: deployHash, pollingInterval: 100, timeout: 60_000 });
        expect(deployed.status).toBe("success");
        const token = deployed.contractAddress as Hex;
        const hashes: Hex[] = [];
        for (let i = 1; i <= 3; i++) {
          hashes.push(
            await wallet.writeContract({
              address: token,
              abi: erc20Abi,
              functionName: "transfer",
              args: [recipient, BigInt(i) * 1000n],
            }),
          );
        }
        const receipts = await Promise.all(
          hashes.map((hash) => c.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 60_000 })),
        );
        expect(receipts.map((r) => r.status)).toEqual(["success", "success", "success"]);
        const from = Number(deployed.blockNumber);
        const to = Math.max(...receipts.map((r) => Number(r.blockNumber)));
        await edgeReaches(stack, to);

        const countsBefore = await stack.edge.callCounts();
        const transferTopic = keccak256(new TextEncoder().encode("Transfer(address,address,uint256)"));
        const filters: unknown[] = [
          { fromBlock: hex(from), toBlock: hex(to) },
          { fromBlock: hex(from - 1), toBlock: hex(to + 1), address: token },
          { fromBlock: hex(from), toBlock: hex(to), address: [token], topics: [transferTopic] },
          {
            fromBlock: hex(from),
            toBlock: hex(to),
            topics: [transferTopic, null, `0x${recipient.slice(2).toLowerCase().padStart(64, "0")}`],
          },
          { blockHash: receipts[receipts.length - 1]?.blockHash },
        ];
        for (const f of filters) {
          const atEdge = await call(stack.url, "eth_getLogs", [f]);
          const atCore = await call(stack.core.url, "eth_getLogs", [f]);
          expect(JSON.stringify(atEdge), JSON.stringify(f)).toBe(JSON.stringify(atCore));
        }
        const logs = (await call(stack.url, "eth_getLogs", [filters[1]])) as Parameters<
          typeof parseEventLogs
        >[0]["logs"];
        const transfers = parseEventLogs({ abi: erc20Abi, logs, eventName: "Transfer" });
        expect(transfers.map((t) => t.args.value)).toEqual([supply, 1000n, 2000n, 3000n]);
        // viem's own getLogs through the edge agrees.
        const viaViem = await c.getLogs({ address: token, fromBlock: BigInt(from), toBlock: BigInt(to) });
        expect(viaViem).toHaveLength(4);
        // The edge answered every eth_getLogs itself (replica or cache): none went to the core.
        const countsAfter = await stack.edge.callCounts();
        const served = (source: string) =>
          (countsAfter.get(`eth_getLogs|${source}`) ?? 0) - (countsBefore.get(`eth_getLogs|${source}`) ?? 0);
        expect(served("core"), "eth_getLogs forwarded to the core").toBe(0);
        expect(served("replica") + served("cache")).toBe(filters.length + 2);

        // Fee history at a fixed block: answered by the edge itself (fee parameters learned from the core), as the core.
        const feeParams = [hex(4), hex(to), [25, 75]];
        const feeBefore = await stack.edge.callCounts();
        const feeAtEdge = await call(stack.url, "eth_feeHistory", feeParams);
        expect(JSON.stringify(feeAtEdge)).toBe(JSON.stringify(await call(stack.core.url, "eth_feeHistory", feeParams)));
        const feeAfter = await stack.edge.callCounts();
        const feeDelta = (source: string) =>
          (feeAfter.get(`eth_feeHistory|${source}`) ?? 0) - (feeBefore.get(`eth_feeHistory|${source}`) ?? 0);
        expect(feeDelta("core"), "eth_feeHistory forwarded to the core").toBe(0);
        expect(feeDelta("replica")).toBe(1);
      });
    }, 120_000);

    it("the bad-input table: the edge answers every row as the core does (status, code, message, data), and nothing reaches the core", async () => {
      await withLogs(stack, async () => {
        const signer = privateKeyToAccount(generatePrivateKey());
        const rows = await badInputTable({ chainId: CHAIN_ID, signer, recipient });
        const countsBefore = await coreRequestCounts(stack.core.metricsUrl);
        const proxiedBefore = stack.proxy.methods.length;
        // Both witnesses work: the core counts the transactions the edge forwarded, and the proxy saw them pass.
        expect(countsBefore.get("eth_sendRawTransaction")).toBeGreaterThan(0);
        expect(stack.proxy.methods).toContain("eth_sendRawTransaction");
        const atEdge: ServerAnswer[] = [];
        for (const row of rows) atEdge.push(await postRaw(stack.url, row.body));
        // The edge still serves (and reads its replica, not the core) after all of it.
        expect(num(await call(stack.url, "eth_blockNumber"))).toBeGreaterThan(0);
        const countsAfter = await coreRequestCounts(stack.core.metricsUrl);
        expect(countDelta(countsBefore, countsAfter), "core request counters moved").toEqual({});
        expect(stack.proxy.methods.slice(proxiedBefore), "requests that reached the core's JSON-RPC").toEqual([]);

        // The core itself, asked last (these do reach it): the same answers, to the byte once parsed.
        const problems: unknown[] = [];
        for (const [i, row] of rows.entries()) {
          const edge = atEdge[i] as ServerAnswer;
          const core = await postRaw(stack.core.url, row.body);
          const wrong = [
            ...rowMismatches(row, edge).map((m) => `edge: ${m}`),
            ...rowMismatches(row, core).map((m) => `core: ${m}`),
          ];
          try {
            expect(edge).toEqual(core);
          } catch {
            wrong.push(`edge ${JSON.stringify(edge).slice(0, 300)} != core ${JSON.stringify(core).slice(0, 300)}`);
          }
          if (wrong.length) problems.push({ row: row.name, wrong });
        }
        expect(problems).toEqual([]);
      });
    }, 60_000);

    it("core restarted while the edge runs: finalized reads served, writes fail then succeed, no gap", async () => {
      await withLogs(stack, async () => {
        const c = client();
        const address = viemSender.address;
        const nonce = num(await call(stack.url, "eth_getTransactionCount", [address, "latest"]));
        const raw = await viemSender.signTransaction({
          type: "eip1559",
          chainId: CHAIN_ID,
          nonce,
          to: recipient,
          value: 7n,
          gas: 21_000n,
          maxFeePerGas: parseGwei("100"),
          maxPriorityFeePerGas: parseGwei("1"),
        });
        const rawHash = keccak256(raw);
        const headBefore = await edgeHead(stack);

        await stack.core.stop();
        expect(stack.core.running()).toBe(false);

        // Finalized reads are served from the replica, twice (the second may come from the edge's cache).
        const finalized = (await call(stack.url, "eth_getBlockByNumber", ["finalized", false])) as Block;
        expect(finalized).not.toBeNull();
        expect(num(finalized.number)).toBeGreaterThan(0);
        expect(await call(stack.url, "eth_getBlockByNumber", ["finalized", false])).toEqual(finalized);
        const byNumber = (await call(stack.url, "eth_getBlockByNumber", [finalized.number, true])) as Block;
        expect(byNumber.hash).toBe(finalized.hash);
        const balance = await call(stack.url, "eth_getBalance", [address, finalized.number]);
        expect(await call(stack.url, "eth_getBalance", [address, "finalized"])).toBe(balance);
        expect(await edgeHead(stack)).toBeGreaterThanOrEqual(headBefore);

        // Writes: a clear error, nothing hangs.
        const refused = await postRpc(stack.url, {
          jsonrpc: "2.0",
          id: 7,
          method: "eth_sendRawTransaction",
          params: [raw],
        });
        expect(refused.status).toBe(200);
        expect(refused.body.error).toMatchObject({ code: -32002, message: "core unavailable, retry later" });
        expect(refused.body.id).toBe(7);

        await stack.core.restart();

        // The same transaction goes through once the core is back (bounded retry while the edge notices).
        const accepted = await waitFor(
          "eth_sendRawTransaction through the edge after the restart",
          async () => {
            const r = await postRpc(stack.url, {
              jsonrpc: "2.0",
              id: 8,
              method: "eth_sendRawTransaction",
              params: [raw],
            });
            if (r.body.error?.code === -32002) return undefined;
            return r;
          },
          { timeoutMs: 20_000, intervalMs: 250 },
        );
        expect(accepted.body.error).toBeUndefined();
        expect(accepted.body.result).toBe(rawHash);
        const receipt = await c.waitForTransactionReceipt({ hash: rawHash, pollingInterval: 100, timeout: 60_000 });
        expect(receipt.status).toBe("success");

        // What the edge served while the core was down is the core's data.
        expect(JSON.stringify(await call(stack.core.url, "eth_getBlockByNumber", [finalized.number, false]))).toBe(
          JSON.stringify(finalized),
        );
        expect(await call(stack.core.url, "eth_getBalance", [address, finalized.number])).toBe(balance);

        // Catch-up with no gap: every block from before the stop to the core's current head, same hash.
        const coreHead = num(await call(stack.core.url, "eth_blockNumber"));
        expect(coreHead).toBeGreaterThan(headBefore);
        await edgeReaches(stack, coreHead);
        let parent: string | undefined;
        for (let n = Math.max(1, headBefore - 5); n <= coreHead; n++) {
          const mine = (await call(stack.url, "eth_getBlockByNumber", [hex(n), false])) as Block | null;
          const theirs = (await call(stack.core.url, "eth_getBlockByNumber", [hex(n), false])) as Block;
          expect(mine?.hash, `block ${n}`).toBe(theirs.hash);
          if (parent) expect(mine?.parentHash, `block ${n} links to ${n - 1}`).toBe(parent);
          parent = mine?.hash;
        }
      });
    }, 120_000);
  });
}
