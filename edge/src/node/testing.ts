// Test support for the Node host: synthetic replication bundles (the shared builder of edge/src/replica/testBundles.ts
// behind the Node tests' spec) and a throwaway redis-server on a free port.
import { createServer } from "node:net";
import { addr, blockBundle, blockHash, CHAIN, fin, txHash, word } from "../replica/testBundles.ts";
import { type LocalRedis, startLocalRedis } from "./redisServer.ts";

export const TEST_CHAIN = CHAIN;
export const TEST_CHAIN_ID = 0x5254n;
export { addr, blockHash, txHash, word };

export interface TestBlockSpec {
  branch?: string;
  parent?: string;
  /** One transfer per entry, each with one log from `logAddress` (topic 1) when given. */
  txs?: { from: number; to: number; logAddress?: number }[];
  accounts?: Record<string, { nonce: number; balance: number }>;
  finalized?: number;
  timestamp?: number;
}

/**
 * A `block` bundle of block `n` on `branch` (parent: block n-1 of branch "a" unless given), safe = finalized = block
 * `finalized` of branch "a"; the shared builder (edge/src/replica/testBundles.ts) with a flat 1 gwei gasPrice.
 */
export function testBlockBundle(seq: number, n: number, spec: TestBlockSpec = {}) {
  const f = spec.finalized ?? 0;
  return blockBundle(seq, n, {
    branch: spec.branch,
    parent: spec.parent,
    txs: (spec.txs ?? []).map((t) => ({
      from: t.from,
      to: t.to,
      logs: t.logAddress === undefined ? [] : [{ address: t.logAddress, topics: [1] }],
    })),
    accounts: spec.accounts,
    finality: fin([f, blockHash("a", f)], [f, blockHash("a", f)]),
    timestamp: spec.timestamp,
    type2GasPrice: 1_000_000_000n,
  });
}

/** A redis-server on a free loopback port for one test file. */
export async function startTestRedis(): Promise<LocalRedis> {
  return startLocalRedis({ port: await loopbackPort() });
}

/** A port the kernel just handed out on 127.0.0.1 (bound and released; redis-server binds it right after). */
function loopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}
