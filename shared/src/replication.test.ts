// The replication bundle format and request authentication: valid bundles round-trip unchanged, anything malformed
// or hostile is refused with a typed ReplicationError, and only requests signed with the key within the time window
// verify.
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  parseReplicationBundle,
  REPLICATION_SIGNATURE_HEADER,
  REPLICATION_TIMESTAMP_HEADER,
  type ReplicationBundle,
  ReplicationError,
  replicationAuthHeaders,
  replicationBundleHash,
  signReplicationRequest,
  verifyReplicationRequest,
} from "./replication.ts";

const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const;
const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as const;
const BLOOM = `0x${"0".repeat(512)}` as const;

function blockBundle(): ReplicationBundle {
  const tx = {
    type: "0x2",
    hash: H(100),
    nonce: "0x0",
    blockHash: H(7),
    blockNumber: "0x5",
    blockTimestamp: "0x6553f100",
    transactionIndex: "0x0",
    from: A(1),
    to: A(2),
    value: "0xde0b6b3a7640000",
    gas: "0x5208",
    input: "0x",
    r: "0x1",
    s: "0x2",
    v: "0x0",
    chainId: "0x5254",
    yParity: "0x0",
    accessList: [],
    maxFeePerGas: "0x174876e800",
    maxPriorityFeePerGas: "0x3b9aca00",
    gasPrice: "0x3b9aca07",
  };
  return {
    version: 1,
    chainId: "0x5254",
    seq: 3,
    kind: "block",
    block: {
      number: "0x5",
      hash: H(7),
      parentHash: H(6),
      nonce: "0x0000000000000000",
      sha3Uncles: H(1),
      logsBloom: BLOOM,
      transactionsRoot: H(2),
      stateRoot: H(3),
      receiptsRoot: H(4),
      miner: A(9),
      difficulty: "0x0",
      totalDifficulty: "0x0",
      extraData: "0x",
      size: "0x200",
      gasLimit: "0x1c9c380",
      gasUsed: "0x5208",
      timestamp: "0x6553f100",
      mixHash: H(0),
      baseFeePerGas: "0x7",
      uncles: [],
      slot: "0x5",
      proposerIndex: "0x0",
      transactions: [tx],
    },
    receipts: [
      {
        type: "0x2",
        transactionHash: H(100),
        transactionIndex: "0x0",
        blockHash: H(7),
        blockNumber: "0x5",
        from: A(1),
        to: A(2),
        cumulativeGasUsed: "0x5208",
        gasUsed: "0x5208",
        contractAddress: null,
        logs: [
          {
            removed: false,
            logIndex: "0x0",
            transactionIndex: "0x0",
            transactionHash: H(100),
            blockHash: H(7),
            blockNumber: "0x5",
            address: A(2),
            data: "0x00ff",
            topics: [H(55)],
          },
        ],
        logsBloom: BLOOM,
        status: "0x1",
        effectiveGasPrice: "0x3b9aca07",
      },
    ],
    stateDiff: {
      accounts: {
        [A(1)]: { nonce: "0x1", balance: "0x10", codeHash: H(11) },
        [A(2)]: { nonce: "0x1", balance: "0x0", codeHash: H(12), code: "0x0061736d" },
        [A(3)]: null,
      },
      storage: { [A(2)]: { [H(0)]: H(1), [H(1)]: H(0) } },
    },
    finality: { safe: { number: "0x4", hash: H(6) }, finalized: { number: "0x3", hash: H(5) } },
  } as ReplicationBundle;
}

function malformedCode(value: unknown): string {
  try {
    parseReplicationBundle(value);
  } catch (e) {
    expect(e).toBeInstanceOf(ReplicationError);
    return (e as ReplicationError).type.code;
  }
  return "accepted";
}

describe("parseReplicationBundle", () => {
  it("accepts block, reorg and finality bundles and returns them unchanged, key order included", () => {
    const b = blockBundle();
    const json = JSON.stringify(b);
    expect(JSON.stringify(parseReplicationBundle(json))).toBe(json);
    expect(parseReplicationBundle(b)).toBe(b);
    const reorg = { version: 1, chainId: "0x5254", seq: 4, kind: "reorg", from: { number: "0x5", hash: H(7) } };
    const full = { ...reorg, to: { number: "0x4", hash: H(8) }, depth: 2 };
    expect(parseReplicationBundle(JSON.stringify(full))).toEqual(full);
    const fin = { version: 1, chainId: "0x5254", seq: 5, kind: "finality", finality: b.kind === "block" && b.finality };
    expect(parseReplicationBundle(fin)).toEqual(fin);
  });

  it("REPLICATION_MALFORMED: wrong version, unknown kind, extra or missing fields, bad hex, inconsistent receipts", () => {
    // biome-ignore lint/suspicious/noExplicitAny: the mutations reach into arbitrary parts of the JSON
    const mutate = (f: (b: Record<string, any>) => void) => {
      const b = JSON.parse(JSON.stringify(blockBundle()));
      f(b);
      return malformedCode(b);
    };
    expect(mutate((b) => (b.version = 2))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.kind = "blocks"))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.extra = 1))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => delete b.finality)).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.seq = -1))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.seq = 1.5))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.block.hash = H(7).toUpperCase()))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.block.number = "0x05"))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.block.extraData = "0x0"))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.block.transactions[0].sneaky = true))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => b.receipts.pop())).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.receipts[0].blockHash = H(8)))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.receipts[0].logs[0].topics = [H(1), H(2), H(3), H(4), H(5)]))).toBe(
      "REPLICATION_MALFORMED",
    );
    expect(mutate((b) => (b.stateDiff.accounts["0xnot-an-address"] = null))).toBe("REPLICATION_MALFORMED");
    expect(mutate((b) => (b.stateDiff.storage[A(2)][H(0)] = "0x1"))).toBe("REPLICATION_MALFORMED");
    expect(malformedCode("{not json")).toBe("REPLICATION_MALFORMED");
    expect(malformedCode([])).toBe("REPLICATION_MALFORMED");
    expect(malformedCode(null)).toBe("REPLICATION_MALFORMED");
    expect(malformedCode({ version: 1, chainId: "0x1", seq: 1, kind: "reorg" })).toBe("REPLICATION_MALFORMED");
  });

  it("REPLICATION_TOO_LARGE and deep nesting are refused before parsing", () => {
    expect(malformedCode(" ".repeat(33 * 1024 * 1024))).toBe("REPLICATION_TOO_LARGE");
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(malformedCode({ version: 1, kind: "finality", deep })).toBe("REPLICATION_MALFORMED");
  });

  it("hostile random JSON only yields typed errors", () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const valid = JSON.parse(JSON.stringify(blockBundle()));
    const leaves = [null, true, 0, -1, 1e308, "", "0x", "0x0", H(1), A(1), "block", "reorg", [], {}];
    const randomValue = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.5) return leaves[Math.floor(rnd() * leaves.length)];
      if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 4) }, () => [
          ["kind", "seq", "block", "__proto__", "x"][Math.floor(rnd() * 5)],
          randomValue(depth + 1),
        ]),
      );
    };
    // Replace a random path of a valid bundle with random JSON, or throw random bytes at the string parser.
    const paths = (v: unknown, prefix: string[] = []): string[][] =>
      v && typeof v === "object"
        ? Object.entries(v).flatMap(([k, c]) => [[...prefix, k], ...paths(c, [...prefix, k])])
        : [];
    const all = paths(valid);
    for (let i = 0; i < 1500; i++) {
      const b = JSON.parse(JSON.stringify(valid));
      const path = all[Math.floor(rnd() * all.length)]!;
      let o = b;
      for (const k of path.slice(0, -1)) o = o[k];
      o[path.at(-1)!] = randomValue(0);
      const code = malformedCode(i % 3 === 0 ? JSON.stringify(b).slice(0, Math.floor(rnd() * 3000)) : b);
      expect(["REPLICATION_MALFORMED", "accepted"]).toContain(code);
      if (code === "accepted") expect(() => parseReplicationBundle(JSON.parse(canonicalJson(b)))).not.toThrow();
    }
  });

  it("the content hash ignores key order and changes with content", async () => {
    const b = blockBundle();
    const reordered = JSON.parse(canonicalJson(b));
    expect(await replicationBundleHash(reordered)).toBe(await replicationBundleHash(b));
    expect(await replicationBundleHash({ ...b, seq: 4 })).not.toBe(await replicationBundleHash(b));
  });
});

describe("replication request authentication", () => {
  const key = new Uint8Array(32).fill(3);
  const now = 1_800_000_000_000;
  const body = JSON.stringify(blockBundle());

  it("a signed request verifies; the headers helper uses the exported names", async () => {
    const sig = await signReplicationRequest(key, now, body);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyReplicationRequest(key, String(now), sig, body, now)).toBe("ok");
    expect(await verifyReplicationRequest(key, String(now), sig.toUpperCase(), body, now + 59_000)).toBe("ok");
    const headers = await replicationAuthHeaders(key, body, now);
    expect(
      await verifyReplicationRequest(
        key,
        headers[REPLICATION_TIMESTAMP_HEADER],
        headers[REPLICATION_SIGNATURE_HEADER],
        body,
        now,
      ),
    ).toBe("ok");
  });

  it("bad_signature: tampered body, timestamp, signature or another key", async () => {
    const sig = await signReplicationRequest(key, now, body);
    expect(await verifyReplicationRequest(key, String(now), sig, `${body} `, now)).toBe("bad_signature");
    expect(await verifyReplicationRequest(key, String(now + 1), sig, body, now)).toBe("bad_signature");
    const flipped = (sig[0] === "0" ? "1" : "0") + sig.slice(1);
    expect(await verifyReplicationRequest(key, String(now), flipped, body, now)).toBe("bad_signature");
    expect(await verifyReplicationRequest(new Uint8Array(32).fill(4), String(now), sig, body, now)).toBe(
      "bad_signature",
    );
  });

  it("stale: timestamps outside the window, past or future", async () => {
    const old = now - 61_000;
    const future = now + 61_000;
    expect(
      await verifyReplicationRequest(key, String(old), await signReplicationRequest(key, old, body), body, now),
    ).toBe("stale");
    expect(
      await verifyReplicationRequest(key, String(future), await signReplicationRequest(key, future, body), body, now),
    ).toBe("stale");
    const t = now - 5_000;
    const sig = await signReplicationRequest(key, t, body);
    expect(await verifyReplicationRequest(key, String(t), sig, body, now, 1_000)).toBe("stale");
  });

  it("malformed: missing or non-numeric timestamp, signature of the wrong form", async () => {
    const sig = await signReplicationRequest(key, now, body);
    expect(await verifyReplicationRequest(key, undefined, sig, body, now)).toBe("malformed");
    expect(await verifyReplicationRequest(key, "12.5", sig, body, now)).toBe("malformed");
    expect(await verifyReplicationRequest(key, "-1", sig, body, now)).toBe("malformed");
    expect(await verifyReplicationRequest(key, String(now), null, body, now)).toBe("malformed");
    expect(await verifyReplicationRequest(key, String(now), sig.slice(2), body, now)).toBe("malformed");
    expect(await verifyReplicationRequest(key, String(now), `${sig.slice(1)}z`, body, now)).toBe("malformed");
  });
});
