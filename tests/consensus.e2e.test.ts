// Multi-validator consensus end to end: one `rustchain node` process per validator on loopback, 1 s slots. What it
// protects:
//   - every node finalizes the same chain with a finality lag of at most 3 slots at p99, and includes transactions
//     sent to any node;
//   - finality certificates served over libp2p verify from genesis with the standalone verifier, and forgeries are
//     refused with the rule they break;
//   - faults: one validator killed, one frozen (SIGSTOP) and resumed, two killed (finality stops), all four killed at
//     once: after each heal every node finalizes again within 10 slots;
//   - a 2|2 partition finalizes nothing on either side and converges after healing, without touching the finalized
//     history;
//   - invalid gossip (bad signature, wrong proposer, future slot, oversized, malformed) costs the sender its score and
//     leaves the node healthy; a peer on another genesis is banned;
//   - a node started late from an empty datadir syncs the chain and follows the head; with a weak-subjectivity
//     checkpoint it syncs only a chain holding that block, and bans the peers that serve another;
//   - a validator that double-votes and double-proposes is slashed (stake halved), and honest ones never are, even
//     across a restart; one that only finalize-votes for two blocks of a slot is slashed on that evidence.
// At every sample, across all nodes and over time, no two different blocks are finalized at the same height.
// The clusters are shared between scenarios to keep the run short (4 node processes are heavy on 2 cores).

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  type Block,
  type BlockHeader,
  blockExtrasRoot,
  blockHash,
  blsKeypairFromSeed,
  blsSign,
  bytesToHex,
  EMPTY_EXTRAS,
  encodeBlock,
  hexToBytes,
  nextBaseFee,
  parseGenesis,
} from "@rustchain/shared";
import { CertificateVerifier, verifyCertificateChain } from "@rustchain/shared/consensus/certificateVerifier";
import { decodeFinalityCertificate } from "@rustchain/shared/consensus/finalityCertificate";
import { certificateRefusal } from "@rustchain/shared/consensus/testCertificates";
import { nativeCertificateCrypto } from "@rustchain/shared/crypto/native";
import { nobleCertificateCrypto } from "@rustchain/shared/crypto/noble";
import { createWalletClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockSigningRoot } from "../validator/src/chain/chain.ts";
import { devnetFeeRecipient } from "../validator/src/cli/devnetGenesis.ts";
import { encodeVrfClaim } from "../validator/src/consensus/chainView.ts";
import { computeVrf } from "../validator/src/consensus/election/vrfElection.ts";
import type { GossipTopicName } from "../validator/src/network/topics.ts";
import {
  fetchCertificateChain,
  fetchCertificateChainRpc,
  forOtherFork,
  resignedBy,
  withForgedSignature,
} from "./support/certificates.ts";
import {
  type Cluster,
  type FinalityStatus,
  FinalityWatcher,
  type Follower,
  parseFinalityStatus,
  percentile,
  startCluster,
  startTestPeer,
  waitUntil,
} from "./support/cluster.ts";
import { DEV_KEYS, devnetChain } from "./support/devnet.ts";

const SLOT_MS = 1000;
const CHAIN_ID = 21076n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const hexNum = (v: unknown) => Number(BigInt(v as string));

function currentSlot(c: Cluster): number {
  return Math.floor((Date.now() - c.genesisMs) / c.slotMs);
}

async function statuses(c: Cluster, nodes: number[]): Promise<FinalityStatus[]> {
  return Promise.all(nodes.map((i) => c.finality(i)));
}

/** Canonical block hashes 0..upTo on one node (a validator's index, or a follower). */
async function canonicalHashes(c: Cluster, node: number | Follower, upTo: number): Promise<string[]> {
  const rpc = (method: string, params: unknown[]) =>
    typeof node === "number" ? c.rpc(node, method, params) : node.rpc(method, params);
  const out: string[] = [];
  for (let n = 0; n <= upTo; n++) {
    const b = (await rpc("eth_getBlockByNumber", [hex(n), false])) as { hash: string } | null;
    out.push(b?.hash ?? "missing");
  }
  return out;
}

/** Polls until the given nodes report finalized slots beyond `after` (per node), returning their statuses. */
async function waitFinalizedBeyond(c: Cluster, nodes: number[], after: Map<number, number>, timeoutMs: number) {
  return waitUntil(
    `finalization beyond ${JSON.stringify([...after])} on ${nodes.map((i) => `v${i}`).join(",")}`,
    async () => {
      const s = await statuses(c, nodes);
      return s.every((x, k) => x.finalized.slot > (after.get(nodes[k]!) ?? -1)) ? s : undefined;
    },
    timeoutMs,
  );
}

/** Waits until every node of `honest` sees `offender` slashed; returns their validator sets. */
async function slashedEverywhere(c: Cluster, offender: number, honest: number[]) {
  return waitUntil(
    `validator ${offender} to be slashed on every honest node`,
    async () => {
      const s = await Promise.all(honest.map((i) => c.validatorSet(i)));
      return s.every((set) => set[offender]!.slashed) ? s : undefined;
    },
    60_000,
    500,
  );
}

/** A node's Prometheus samples without labels, by name. */
async function metrics(c: Cluster, i: number): Promise<Map<string, number>> {
  const text = await (await fetch(c.nodes[i]!.metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Finality running on `nodes` (lag <= 3): the state every scenario starts from (cheap when it already holds). */
async function waitForFinality(c: Cluster, nodes: number[]): Promise<FinalityStatus[]> {
  return waitUntil(
    "finality on every node",
    async () => {
      const s = await statuses(c, nodes);
      return s.every((x) => x.finalized.slot > 0 && x.currentSlot - x.finalized.slot <= 3) ? s : undefined;
    },
    60_000,
  );
}

function reportOnFailure(c: () => Cluster | undefined, onTestFailed: (fn: () => void | Promise<void>) => void): void {
  onTestFailed(async () => {
    const cluster = c();
    if (!cluster) return;
    console.log(cluster.dumpLogs(undefined, 80));
    // Where each node's finality and head stand, and whom it is connected to: what a stuck node needs explained.
    for (const i of cluster.running()) {
      const status = await cluster.finality(i).catch((e: unknown) => String(e));
      const peers = await cluster.admin(i, "admin_peerScores").catch((e: unknown) => String(e));
      console.log(`v${i} finality ${JSON.stringify(status)} peers ${JSON.stringify(peers)}`);
    }
  });
}

describe("four honest validators, 1 s slots", () => {
  let c: Cluster;
  let watcher: FinalityWatcher;

  beforeAll(async () => {
    const t = Date.now();
    // Node 0 logs at debug: its gossip REJECT codes are asserted below.
    c = await startCluster({
      validators: 4,
      slotMs: SLOT_MS,
      extraArgs: (i) => (i === 0 ? ["--log-level", "debug"] : []),
    });
    console.log(`cluster of 4 started in ${Date.now() - t} ms`);
    watcher = new FinalityWatcher(c);
    watcher.start();
  }, 150_000);

  afterAll(async () => {
    await watcher?.stop();
    await c?.stop();
  }, 60_000);

  it("all nodes finalize the same chain with lag <= 2 slots at p99 over 60+ slots, and include every node's transactions", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    const all = [0, 1, 2, 3];
    // Warm-up: nodes started at different times; wait until finality runs everywhere, then a few more slots.
    await waitForFinality(c, all);
    await sleep(3 * SLOT_MS);
    const from = Date.now();
    const firstSlot = currentSlot(c);

    // Transactions signed with viem, one account per node (so nonces never collide), each sent to its own node.
    const value = parseEther("0.25");
    const sent = await Promise.all(
      all.map(async (i) => {
        const account = privateKeyToAccount(DEV_KEYS[i]!);
        const wallet = createWalletClient({ account, chain: devnetChain, transport: http(c.nodes[i]!.rpcUrl) });
        const to = privateKeyToAccount(generatePrivateKey()).address;
        const hash = await wallet.sendTransaction({ to, value });
        return { node: i, hash, to };
      }),
    );

    // Sample finality for 62 slots (the watcher samples every node once per slot).
    const windowSlots = 62;
    await waitUntil(
      "the sampling window",
      async () => (currentSlot(c) >= firstSlot + windowSlots ? true : undefined),
      (windowSlots + 10) * SLOT_MS,
      500,
    );
    const samples = watcher.since(from);
    const lags = samples.map((s) => s.status.currentSlot - s.status.finalized.slot);
    const p50 = percentile(lags, 50);
    const p99 = percentile(lags, 99);
    console.log(
      `finality lag over ${windowSlots} slots, ${samples.length} samples: p50=${p50} p99=${p99} max=${Math.max(...lags)} slots`,
    );
    for (const i of all) {
      const mine = samples.filter((s) => s.node === i);
      expect(mine.length, `samples of v${i}`).toBeGreaterThanOrEqual(windowSlots - 5);
      const advanced = mine.at(-1)!.status.finalized.slot - mine[0]!.status.finalized.slot;
      expect(advanced, `v${i} finalized slots advanced over the window`).toBeGreaterThanOrEqual(windowSlots - 10);
    }
    // Finality within the slot: the finalized checkpoint is normally the current slot's, or the one before.
    expect(p99).toBeLessThanOrEqual(2);

    // Every transaction is in a block that every node has finalized, the same block everywhere (before finality
    // two nodes may briefly hold it in competing blocks), and its effect is visible at the `finalized` tag.
    const receipts = await waitUntil(
      "every transaction in a finalized block on every node",
      async () => {
        const finalized = await statuses(c, all);
        const out: Record<string, string>[] = [];
        for (const t of sent) {
          const r = await Promise.all(
            all.map((i) => c.rpc(i, "eth_getTransactionReceipt", [t.hash]) as Promise<Record<string, string> | null>),
          );
          if (r.some((x, i) => x === null || Number(BigInt(x.blockNumber!)) > finalized[i]!.finalized.number)) return;
          out.push(...(r as Record<string, string>[]));
        }
        return out;
      },
      30_000,
      500,
    );
    for (const [k, t] of sent.entries()) {
      const mine = receipts.slice(k * all.length, (k + 1) * all.length);
      expect(
        mine.map((r) => r.status),
        `status of the tx sent to v${t.node}`,
      ).toEqual(all.map(() => "0x1"));
      expect(new Set(mine.map((r) => r.blockHash)).size, `the tx sent to v${t.node} is in one block everywhere`).toBe(
        1,
      );
      for (const i of all) {
        const b = (await c.rpc(i, "eth_getBlockByNumber", [mine[0]!.blockNumber, false])) as { hash: string };
        expect(b.hash, `v${i} canonical block of the tx sent to v${t.node}`).toBe(mine[0]!.blockHash);
        expect(BigInt((await c.rpc(i, "eth_getBalance", [t.to, "finalized"])) as string)).toBe(value);
      }
    }
    const finals = await statuses(c, all);

    // The whole finalized history is identical on every node, and the `finalized` block tag follows
    // rustchain_finalityStatus (between two reads of it, as finality moves on).
    const upTo = Math.min(...finals.map((s) => s.finalized.number));
    const histories = await Promise.all(all.map((i) => canonicalHashes(c, i, upTo)));
    for (const i of all) expect(histories[i], `v${i} finalized history`).toEqual(histories[0]);
    for (const i of all) {
      const f = (await c.rpc(i, "eth_getBlockByNumber", ["finalized", false])) as { number: string; hash: string };
      const s = await c.finality(i);
      expect(Number(BigInt(f.number))).toBeGreaterThanOrEqual(finals[i]!.finalized.number);
      expect(Number(BigInt(f.number)) <= s.finalized.number).toBe(true);
    }
    // Prometheus agrees: the finalized-slot gauge follows finality, and the lag histogram has observations.
    for (const i of all) {
      const m = await metrics(c, i);
      expect(m.get("rustchain_finalized_slot"), `v${i} rustchain_finalized_slot`).toBeGreaterThanOrEqual(
        finals[i]!.finalized.slot,
      );
      expect(m.get("rustchain_finality_lag_slots_count"), `v${i} lag observations`).toBeGreaterThan(windowSlots / 2);
    }
    expect(watcher.violations).toEqual([]);
  }, 180_000);

  it("finality certificates fetched over libp2p verify from genesis with the standalone verifier; forgeries are refused by name", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    await waitForFinality(c, [0, 1, 2, 3]);
    const genesis = parseGenesis(c.genesis);
    const genesisHash = ((await c.rpc(0, "eth_getBlockByNumber", ["0x0", false])) as { hash: string }).hash;
    const opts = { chainId: CHAIN_ID, validators: genesis.validators, crypto: nativeCertificateCrypto };
    const start = { checkpoint: { slot: 0, root: genesisHash } };
    // The certificate JSON-RPC serves for the finalized block, then node 0's whole chain over req/resp.
    const served = (await c.rpc(0, "rustchain_getFinalityCertificate", ["finalized"])) as {
      checkpoint: { slot: string; hash: string; number: string };
      parent: { slot: string; hash: string };
      kind: string;
      certificate: string;
    };
    expect(["fast", "link"]).toContain(served.kind);
    const net = await startTestPeer(c, 0);
    let chain: Uint8Array[];
    try {
      const node0 = net.peers().find((p) => p.toString() === c.nodes[0]!.peerId)!;
      chain = await fetchCertificateChain(net, node0);
    } finally {
      await net.stop();
    }
    const at = chain.findIndex((e) => bytesToHex(e) === served.certificate);
    expect(at, "the RPC certificate is in the chain served over libp2p").toBeGreaterThan(0);
    const t = performance.now();
    const verified = await verifyCertificateChain(opts, start, chain.slice(0, at + 1));
    const ms = performance.now() - t;
    const last = verified.at(-1)!;
    expect(last.checkpoint).toEqual({ slot: hexNum(served.checkpoint.slot), root: served.checkpoint.hash });
    expect(last.header?.number).toBe(BigInt(served.checkpoint.number));
    const kinds = chain.map((e) => decodeFinalityCertificate(e).kind);
    console.log(
      `certificates: ${verified.length} verified from genesis in ${ms.toFixed(0)} ms (${kinds.filter((k) => k === "fast").length} fast, ${kinds.filter((k) => k === "link").length} link)`,
    );
    // Every finalized block is covered: each block the chain names is canonical on node 0, and the pure-JS
    // crypto (the Worker's) agrees on the last certificates.
    for (const v of verified.slice(-3)) {
      const b = (await c.rpc(0, "eth_getBlockByNumber", [hex(v.header!.number), false])) as { hash: string };
      expect(b.hash).toBe(v.checkpoint.root);
    }
    const parentOfLast = verified.at(-2)!.checkpoint;
    const noble = new CertificateVerifier({ ...opts, crypto: nobleCertificateCrypto }, { checkpoint: parentOfLast });
    expect((await noble.verifyNext(chain[at]!)).checkpoint).toEqual(last.checkpoint);

    // Forgeries of the served certificate, each checked from its real parent.
    const refusal = (encoded: Uint8Array) =>
      certificateRefusal(new CertificateVerifier(opts, { checkpoint: parentOfLast }).verifyNext(encoded));
    const real = chain[at]!;
    const keys = c.nodes.map((n) => n.secretKey);
    expect(await refusal(resignedBy(real, CHAIN_ID, [0, 1, 2], keys, 4))).toBe("accepted"); // 3 of 4 re-signed: valid
    expect(await refusal(withForgedSignature(real))).toBe("CERT_BAD_SIGNATURE");
    expect(await refusal(resignedBy(real, CHAIN_ID, [0, 1], keys, 4))).toBe("CERT_INSUFFICIENT_WEIGHT");
    expect(await refusal(forOtherFork(real).encoded)).toBe("CERT_VOTE_MISMATCH");
    // A certificate out of order (its parent is not the last verified checkpoint).
    expect(await certificateRefusal(new CertificateVerifier(opts, start).verifyNext(real))).toBe(
      "CERT_PARENT_MISMATCH",
    );
    expect(watcher.violations).toEqual([]);
  }, 60_000);

  it("invalid gossip costs the sender its score, with the REJECT code of each rule, and node 0 stays healthy", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    await waitForFinality(c, [0, 1, 2, 3]);
    const info = (await c.admin(0, "admin_nodeInfo")) as { peerId: string; multiaddrs: string[] };
    expect(info.peerId).toBe(c.nodes[0]!.peerId);
    expect(info.multiaddrs, "node 0's advertised addresses").toContain(c.nodes[0]!.multiaddr);
    const genesis = parseGenesis(c.genesis);
    const before = await c.finality(0);
    const headBefore = Number(BigInt((await c.rpc(0, "eth_blockNumber")) as string));

    /** A block on node 0's head at the current slot, with whatever the case needs changed. */
    const forgeBlock = async (o: {
      proposer: number;
      signer: Uint8Array;
      slotOffset?: number;
      vrfProof?: Uint8Array;
    }): Promise<Uint8Array> => {
      const parent = (await c.rpc(0, "eth_getBlockByNumber", ["latest", false])) as Record<string, string>;
      const parentSlot = Number(BigInt(parent.slot!));
      const slot = BigInt(Math.max(currentSlot(c), parentSlot + 1) + (o.slotOffset ?? 0));
      const gasLimit = BigInt(parent.gasLimit!);
      const header: BlockHeader = {
        parentHash: hexToBytes(parent.hash!),
        slot,
        number: BigInt(parent.number!) + 1n,
        proposerIndex: BigInt(o.proposer),
        coinbase: hexToBytes(devnetFeeRecipient(o.proposer)),
        vrfProof: o.vrfProof ?? randomBytes(96),
        stateRoot: randomBytes(32),
        transactionsRoot: randomBytes(32),
        receiptsRoot: randomBytes(32),
        logsBloom: new Uint8Array(256),
        gasLimit,
        gasUsed: 0n,
        baseFeePerGas: nextBaseFee(genesis.params, {
          gasLimit,
          gasUsed: BigInt(parent.gasUsed!),
          baseFeePerGas: BigInt(parent.baseFeePerGas!),
        }),
        timestamp: BigInt(Math.floor((c.genesisMs + Number(slot) * c.slotMs) / 1000)),
        extraData: new TextEncoder().encode("e2e forged block"),
        extrasRoot: blockExtrasRoot(EMPTY_EXTRAS),
        signature: new Uint8Array(0),
      };
      header.signature = blsSign(o.signer, blockSigningRoot(CHAIN_ID, blockHash(header)));
      const block: Block = { header, transactions: [], ...EMPTY_EXTRAS };
      return encodeBlock(block);
    };
    const randomKey = () => blsKeypairFromSeed(randomBytes(32)).secretKey;

    const cases: { name: string; topic: GossipTopicName; code: string; data: () => Promise<Uint8Array> }[] = [
      {
        name: "block with a bad signature",
        topic: "blocks",
        code: "BLOCK_INVALID_SIGNATURE",
        data: () => forgeBlock({ proposer: 0, signer: randomKey() }),
      },
      {
        name: "block naming validator 1 but signed by validator 2",
        topic: "blocks",
        code: "BLOCK_INVALID_SIGNATURE",
        data: () => forgeBlock({ proposer: 1, signer: c.nodes[2]!.secretKey }),
      },
      {
        name: "block correctly signed by validator 1, which was not elected (VRF proof over another seed)",
        topic: "blocks",
        code: "BLOCK_PROPOSER_NOT_ELECTED",
        data: async () => {
          const slot = BigInt(currentSlot(c));
          const proof = computeVrf(c.nodes[1]!.secretKey, CHAIN_ID, randomBytes(32), slot).proof;
          return forgeBlock({ proposer: 1, signer: c.nodes[1]!.secretKey, vrfProof: encodeVrfClaim(proof, false) });
        },
      },
      {
        name: "block from a far-future slot",
        topic: "blocks",
        code: "BLOCK_FUTURE_SLOT",
        data: () => forgeBlock({ proposer: 0, signer: c.nodes[0]!.secretKey, slotOffset: 100 }),
      },
      {
        name: "attestation over the 4 KiB topic limit",
        topic: "attestations",
        code: "GOSSIP_MESSAGE_TOO_LARGE",
        data: async () => randomBytes(5 * 1024),
      },
      { name: "malformed block bytes", topic: "blocks", code: "BLOCK_MALFORMED", data: async () => randomBytes(300) },
      {
        name: "malformed attestation bytes",
        topic: "attestations",
        code: "ATTESTATION_MALFORMED",
        data: async () => randomBytes(200),
      },
    ];

    // One fresh peer per case: gossipsub graylists a peer after a few invalid messages and then drops its traffic
    // unvalidated, which would hide whether later cases are rejected.
    const results: string[] = [];
    for (const kase of cases) {
      const net = await startTestPeer(c, 0);
      try {
        const id = net.peerId.toString();
        const fresh = (await c.admin(0, "admin_peerScore", [id])) as { score: number; banned: boolean };
        expect(fresh.score, `fresh peer score (${kase.name})`).toBe(0);
        const mark = c.nodes[0]!.logs.mark();
        const data = await kase.data();
        // Straight through gossipsub: Network.publish would refuse the oversized one locally.
        await net.libp2p.services.pubsub.publish(net.topic(kase.topic), data);
        const after = await waitUntil(
          `node 0 to penalise the sender of a ${kase.name}`,
          async () => {
            const s = (await c.admin(0, "admin_peerScore", [id])) as { score: number; banned: boolean };
            return s.score < 0 ? s : undefined;
          },
          10_000,
          100,
        );
        // Node 0 logs each penalty (at debug) with the rule's code; give the log pipe a moment.
        const penalised = () =>
          c.nodes[0]!.logs.since(mark).filter((l) => l.includes(id) && l.includes('"Peer penalised"'));
        await waitUntil(
          "the penalty's log line",
          async () => (penalised().length > 0 ? true : undefined),
          3_000,
          50,
        ).catch(() => undefined);
        const codes = penalised().map((l) => (JSON.parse(l) as { code?: string }).code);
        results.push(`${kase.name}: score ${after.score.toFixed(1)} codes ${codes.join(",")}`);
        expect(after.score, kase.name).toBeLessThan(0);
        expect(codes, kase.name).toContain(kase.code);
      } finally {
        await net.stop();
      }
      // libp2p refuses more than 5 inbound connections per second from one host, and every peer here is 127.0.0.1.
      await sleep(300);
    }
    console.log(`invalid gossip:\n  ${results.join("\n  ")}`);

    // A peer on another genesis (same chain id, so the same topics): node 0's sync asks for its status on connect and
    // bans it at once, since nothing it serves can ever be used.
    const mark = c.nodes[0]!.logs.mark();
    const stranger = await startTestPeer(c, 0, ["blocks"], { foreignGenesis: randomBytes(32) });
    try {
      const id = stranger.peerId.toString();
      await waitUntil(
        "node 0 to ban the peer on another genesis",
        async () => (((await c.admin(0, "admin_peerScore", [id])) as { banned: boolean }).banned ? true : undefined),
        10_000,
        100,
      );
      await waitUntil(
        "the ban's log line",
        async () =>
          c.nodes[0]!.logs.since(mark).some(
            (l) => l.includes(id) && l.includes('"Peer banned"') && l.includes("SYNC_OTHER_GENESIS"),
          )
            ? true
            : undefined,
        3_000,
        50,
      );
      await waitUntil(
        "node 0 to hang up on it",
        async () => (stranger.peers().some((p) => p.toString() === c.nodes[0]!.peerId) ? undefined : true),
        5_000,
        50,
      );
    } finally {
      await stranger.stop();
    }

    // Node 0 is healthy: its head keeps rising, finality continues, and none of its validator peers was blamed.
    await sleep(4 * SLOT_MS);
    const headAfter = Number(BigInt((await c.rpc(0, "eth_blockNumber")) as string));
    expect(headAfter).toBeGreaterThan(headBefore);
    const now = await c.finality(0);
    expect(now.finalized.slot).toBeGreaterThanOrEqual(before.finalized.slot + 4);
    expect(now.currentSlot - now.finalized.slot).toBeLessThanOrEqual(3);
    for (const peer of c.nodes.slice(1)) {
      const s = (await c.admin(0, "admin_peerScore", [peer.peerId])) as { score: number; banned: boolean };
      expect(s, `node 0's score of ${peer.name}`).toEqual({ peerId: peer.peerId, score: 0, banned: false });
    }
    expect(watcher.violations).toEqual([]);
  }, 120_000);

  it("a 2|2 partition finalizes nothing on either side; after healing all nodes converge and earlier finality holds", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    const all = [0, 1, 2, 3];
    await waitForFinality(c, all);
    const pre = await statuses(c, all);
    const preFinalized = Math.min(...pre.map((s) => s.finalized.number));
    const preHistory = await canonicalHashes(c, 0, preFinalized);

    await c.partition([
      [0, 1],
      [2, 3],
    ]);
    // Connections across the cut are gone, in both directions.
    await waitUntil(
      "the partition to cut connections",
      async () => {
        const peers = await Promise.all(all.map((i) => c.admin(i, "admin_peers") as Promise<string[]>));
        const across = (i: number) => c.nodes.filter((n) => n.index < 2 !== i < 2).map((n) => n.peerId);
        return peers.every((p, i) => p.every((id) => !across(i).includes(id))) ? true : undefined;
      },
      10_000,
    );
    // Votes already in flight may still land; then finality must freeze on every node for 10 slots.
    await sleep(2 * SLOT_MS);
    const frozen = await statuses(c, all);
    const heads0 = frozen.map((s) => s.headNumber);
    for (let k = 0; k < 10; k++) {
      await sleep(SLOT_MS);
      const s = await statuses(c, all);
      for (const i of all) {
        expect(s[i]!.finalized, `v${i} finalized during the partition (slot ${s[i]!.currentSlot})`).toEqual(
          frozen[i]!.finalized,
        );
      }
    }
    const during = await statuses(c, all);
    console.log(
      `partition: finalized frozen at ${frozen.map((s) => s.finalized.slot).join(",")}; heads ${heads0.join(",")} -> ${during.map((s) => s.headNumber).join(",")}`,
    );
    // Each side kept building its own chain.
    expect(during[0]!.headNumber + during[2]!.headNumber).toBeGreaterThan(heads0[0]! + heads0[2]!);

    const healedAt = Date.now();
    await c.heal();
    const frozenSlot = Math.max(...frozen.map((s) => s.finalized.slot));
    // One chain again: the same finalized checkpoint (newer than the partition) and the same head on every node.
    const converged = await waitUntil(
      "all nodes to converge on one head and finalized checkpoint",
      async () => {
        const s = await statuses(c, all);
        const f = s[0]!.finalized;
        const same = s.every((x) => x.finalized.hash === f.hash && x.finalized.slot === f.slot);
        const sameHead = s.every((x) => x.headHash === s[0]!.headHash);
        return same && sameHead && f.slot > frozenSlot ? s : undefined;
      },
      60_000,
      200,
    );
    console.log(
      `healed: converged after ${Date.now() - healedAt} ms at finalized slot ${converged[0]!.finalized.slot}, head ${converged[0]!.headNumber}`,
    );
    for (const i of all) {
      expect(await canonicalHashes(c, i, preFinalized), `v${i} history up to pre-partition finality`).toEqual(
        preHistory,
      );
    }
    expect(watcher.violations).toEqual([]);
  }, 150_000);

  it("faults: one killed, one frozen, two killed, all four killed; after each heal every node finalizes again within 10 slots", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    const all = [0, 1, 2, 3];
    await waitForFinality(c, all);
    const healTimes: string[] = [];
    /** After a heal at this moment: every node finalizes a checkpoint of a slot after it, within 10 slots. */
    const finalizesAgain = async (what: string) => {
      const healSlot = currentSlot(c);
      const healedAt = Date.now();
      await waitFinalizedBeyond(c, all, new Map(all.map((i) => [i, healSlot])), 10 * SLOT_MS);
      const slots = (Date.now() - healedAt) / SLOT_MS;
      healTimes.push(`${what}: ${slots.toFixed(1)} slots`);
      return slots;
    };

    // 1. One killed: 3/4 of the weight still finalizes; the node comes back and catches up.
    await c.kill(3);
    const one = await statuses(c, [0, 1, 2]);
    await waitUntil(
      "finality to advance with v3 down",
      async () => {
        const s = await statuses(c, [0, 1, 2]);
        return s.every((x, k) => x.finalized.slot >= one[k]!.finalized.slot + 4) ? s : undefined;
      },
      15_000,
    );
    const mark = c.nodes[3]!.logs.mark();
    await c.restart(3);
    await finalizesAgain("v3 killed and restarted");
    expect(c.nodes[3]!.logs.since(mark).some((l) => l.includes('"Synced blocks"'))).toBe(true);

    // 2. One frozen (SIGSTOP) for 5 slots: the others keep finalizing; resumed, it catches up and finalizes again.
    c.freeze(2);
    const frozenAt = await statuses(c, [0, 1, 3]);
    await sleep(5 * SLOT_MS);
    const whileFrozen = await statuses(c, [0, 1, 3]);
    for (const [k, s] of whileFrozen.entries()) expect(s.finalized.slot).toBeGreaterThan(frozenAt[k]!.finalized.slot);
    c.thaw(2);
    await finalizesAgain("v2 frozen and resumed");

    // 3. Two killed: half the weight, below 2/3: finality stops for 8 slots; both back, it resumes.
    await Promise.all([c.kill(2), c.kill(3)]);
    await sleep(2 * SLOT_MS);
    const stuck = await statuses(c, [0, 1]);
    for (let k = 0; k < 8; k++) {
      await sleep(SLOT_MS);
      const s = await statuses(c, [0, 1]);
      for (const [j, i] of [0, 1].entries()) {
        expect(s[j]!.finalized, `v${i} finalized with 2 of 4 down (slot ${s[j]!.currentSlot})`).toEqual(
          stuck[j]!.finalized,
        );
      }
    }
    await Promise.all([c.restart(2), c.restart(3)]);
    await finalizesAgain("v2 and v3 killed, restarted");

    // 4. All four killed at once (SIGKILL), and restarted together on their datadirs.
    const before = await statuses(c, all);
    await Promise.all(all.map((i) => c.kill(i)));
    await sleep(2 * SLOT_MS);
    await Promise.all(all.map((i) => c.restart(i)));
    for (const [i, s] of (await statuses(c, all)).entries()) {
      // Nothing finalized is lost across a crash of the whole network.
      expect(s.finalized.slot, `v${i} finalized slot after the restart`).toBeGreaterThanOrEqual(
        before[i]!.finalized.slot,
      );
    }
    await finalizesAgain("all four killed, restarted");
    console.log(`faults healed: ${healTimes.join("; ")}`);

    // Through all of it, every node kept a certificate for each of its finalizations: its chain verifies from
    // genesis up to (about) its finalized checkpoint, which is what a node syncing from it walks.
    const genesis = parseGenesis(c.genesis);
    const genesisHash = ((await c.rpc(0, "eth_getBlockByNumber", ["0x0", false])) as { hash: string }).hash;
    for (const i of all) {
      const chain = await fetchCertificateChainRpc((m, p) => c.rpc(i, m, p));
      const finalizedSlot = (await c.finality(i)).finalized.slot;
      const verified = await verifyCertificateChain(
        { chainId: CHAIN_ID, validators: genesis.validators, crypto: nativeCertificateCrypto },
        { checkpoint: { slot: 0, root: genesisHash } },
        chain,
      ).catch((e: Error & { index?: number }) => {
        const at = e.index !== undefined ? decodeFinalityCertificate(chain[e.index]!) : undefined;
        throw new Error(
          `v${i}'s certificate chain breaks at #${e.index} (checkpoint ${at?.checkpoint.slot}, parent ${at?.parent.slot}): ${e.message}`,
        );
      });
      expect(verified.at(-1)!.checkpoint.slot, `v${i}'s last certificate`).toBeGreaterThanOrEqual(finalizedSlot - 2);
    }

    // One chain: the same canonical hashes up to the lowest finalized block, and no finality violation at any sample.
    const f = await statuses(c, all);
    const upTo = Math.min(...f.map((x) => x.finalized.number));
    const h0 = await canonicalHashes(c, 0, upTo);
    for (const i of [1, 2, 3]) expect(await canonicalHashes(c, i, upTo), `v${i} finalized history`).toEqual(h0);
    expect(watcher.violations).toEqual([]);
  }, 240_000);

  it("a node started late syncs and follows the head; a weak-subjectivity checkpoint refuses any other chain", async ({
    onTestFailed,
  }) => {
    const live = c.running();
    reportOnFailure(() => c, onTestFailed);
    const [s0] = await waitForFinality(c, live);
    const checkpoint = s0!.finalized;
    expect(checkpoint.number).toBeGreaterThan(0);
    // The same number under another hash: the chain these validators built does not hold that block.
    const wrongHash = `${checkpoint.hash.slice(0, -1)}${checkpoint.hash.endsWith("0") ? "1" : "0"}`;
    const good = await c.startFollower("late", ["--checkpoint", `${checkpoint.number}:${checkpoint.hash}`]);
    const bad = await c.startFollower("other-chain", ["--checkpoint", `${checkpoint.number}:${wrongHash}`]);
    onTestFailed(() => {
      for (const f of [good, bad]) console.log(`==== ${f.name}\n${f.logs.tail(60).join("\n")}`);
    });

    // The late node: past the checkpoint, then on node 0's head, which it keeps following.
    const target = (await c.finality(live[0]!)).headNumber;
    await waitUntil(
      "the late node to reach node 0's head at its start",
      async () => (hexNum(await good.rpc("eth_blockNumber")) >= target ? true : undefined),
      60_000,
    );
    expect(good.logs.grep('"Synced blocks"').length).toBeGreaterThan(0);
    const followFrom = hexNum(await good.rpc("eth_blockNumber"));
    await waitUntil(
      "the late node to share node 0's head above where it synced to",
      async () => {
        const [mine, theirs] = await Promise.all([
          good.rpc("rustchain_finalityStatus").then(parseFinalityStatus),
          c.finality(live[0]!),
        ]);
        return mine.headHash === theirs.headHash && mine.headNumber > followFrom ? true : undefined;
      },
      20_000,
      200,
    );
    // Its finality follows too: from the votes blocks carry, and from the certificates of the peers it syncs from
    // (finalize votes reach no block).
    const fin = await waitUntil(
      "the late node to finalize at least the checkpoint",
      async () => {
        const f = (await good.rpc("rustchain_finalityStatus").then(parseFinalityStatus)).finalized.number;
        return f >= checkpoint.number ? f : undefined;
      },
      15_000,
      200,
    ).catch(async (e: Error) => {
      const mine = await good.rpc("rustchain_finalityStatus").then(parseFinalityStatus);
      const theirs = (await fetchCertificateChainRpc((m, p) => c.rpc(live[0]!, m, p)))
        .map((x) => decodeFinalityCertificate(x))
        .filter((x) => x.checkpoint.slot >= mine.finalized.slot - 2 && x.checkpoint.slot <= mine.finalized.slot + 12)
        .map(
          (x) => `${x.parent.slot}:${x.parent.root.slice(0, 8)}->${x.checkpoint.slot}:${x.checkpoint.root.slice(0, 8)}`,
        );
      throw new Error(
        `${e.message}; late node finalized ${JSON.stringify(mine.finalized)}; node 0's certificates there: ${theirs.join(" ")}`,
      );
    });
    expect(await canonicalHashes(c, good, fin)).toEqual(await canonicalHashes(c, live[0]!, fin));

    // The node that trusts another checkpoint: it refuses the block at that height, bans each peer serving it, and
    // never gets past the height below; it keeps answering RPC.
    await waitUntil(
      "the checkpoint conflict to ban a peer",
      async () =>
        bad.logs.grep('"Peer banned"').some((l) => l.includes("BLOCK_CONFLICTS_CHECKPOINT")) ? true : undefined,
      30_000,
    );
    await sleep(3 * SLOT_MS);
    expect(hexNum(await bad.rpc("eth_blockNumber"))).toBeLessThan(checkpoint.number);
    expect(await bad.rpc("eth_getBlockByNumber", [hex(checkpoint.number), false])).toBeNull();
    expect(bad.proc.exitCode).toBeNull();
    expect(watcher.violations).toEqual([]);
    await Promise.all([good.stop(), bad.stop()]);
  }, 150_000);

  it("a second process with a live validator's key and --doppelganger-slots stays silent and says so; nobody is slashed", async ({
    onTestFailed,
  }) => {
    const live = c.running();
    reportOnFailure(() => c, onTestFailed);
    const v1 = c.nodes[1]!;
    const twin = await c.startFollower("twin-of-v1", [
      ...["--key", join(v1.datadir, "validator-keystore.json"), "--password-file", join(v1.datadir, "password.txt")],
      ...["--doppelganger-slots", "3"],
    ]);
    onTestFailed(() => console.log(`==== twin\n${twin.logs.tail(60).join("\n")}`));
    await waitUntil(
      "the twin to detect validator 1 live elsewhere",
      async () => (twin.logs.grep('"Doppelganger detected').length > 0 ? true : undefined),
      30_000,
    );
    // Several slots on: the twin signed nothing (every duty refused), validator 1 is not slashed anywhere, finality goes on.
    const before = await c.finality(live[0]!);
    await sleep(6 * SLOT_MS);
    expect(twin.logs.grep("Signer refused").length).toBeGreaterThan(0);
    for (const i of live) expect((await c.validatorSet(i))[1]?.slashed).toBe(false);
    expect((await c.finality(live[0]!)).finalized.slot).toBeGreaterThan(before.finalized.slot);
    expect(watcher.violations).toEqual([]);
    await twin.stop();
  }, 90_000);
});

describe("a byzantine validator (double votes and double proposals) among 4", () => {
  let c: Cluster;

  beforeAll(async () => {
    c = await startCluster({ validators: 4, slotMs: SLOT_MS, byzantine: [3] });
  }, 150_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  const STAKE = () => BigInt(c.genesis.validators[0]!.stake);

  it("is slashed with its stake halved on every honest node; no honest validator is slashed", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    const honest = [0, 1, 2];
    const sets = await slashedEverywhere(c, 3, honest);
    for (const [k, set] of sets.entries()) {
      expect(set[3]!.stake, `v${honest[k]} view of v3's stake`).toBe(STAKE() / 2n);
      expect(set[3]!.proposerWeight).toBe(0n);
      for (const v of honest) {
        expect(set[v]!.slashed, `v${honest[k]} view of v${v}`).toBe(false);
        expect(set[v]!.stake).toBe(STAKE());
      }
    }
    // Honest nodes detected the offences (a node that first hears of a piece of evidence through the slashings topic
    // does not count it as its own detection, so the sum over nodes is what must be positive), and every offence
    // they detected was v3's.
    let detected = 0;
    for (const i of honest) detected += (await metrics(c, i)).get("rustchain_slashing_evidence_total") ?? 0;
    expect(detected, "rustchain_slashing_evidence_total over the honest nodes").toBeGreaterThan(0);
    const offenders = honest.flatMap((i) =>
      c.nodes[i]!.logs.grep('"Slashable offence detected"').map(
        (l) => (JSON.parse(l) as { offender?: number }).offender,
      ),
    );
    expect(offenders.length).toBeGreaterThan(0);
    expect(new Set(offenders), "offenders named by honest nodes").toEqual(new Set([3]));
  }, 120_000);

  it("an honest validator killed and restarted mid-test is never slashed, and finality continues", async ({
    onTestFailed,
  }) => {
    reportOnFailure(() => c, onTestFailed);
    await c.kill(1);
    await c.restart(1);
    const start = await c.finality(1);
    for (let k = 0; k < 12; k++) {
      await sleep(SLOT_MS);
      const sets = await Promise.all([0, 1, 2].map((i) => c.validatorSet(i)));
      for (const [i, set] of sets.entries()) {
        for (const v of [0, 1, 2]) expect(set[v]!.slashed, `v${i} view of v${v} after v1's restart`).toBe(false);
      }
    }
    // The restarted node caught up: it too sees v3 slashed, and it finalizes.
    expect((await c.validatorSet(1))[3]!.slashed).toBe(true);
    await waitFinalizedBeyond(c, [0, 1, 2], new Map([[1, start.finalized.slot + 3]]), 30_000);
  }, 150_000);
});

describe("a byzantine validator that finalize-votes for two blocks in one slot, among 4", () => {
  let c: Cluster;

  beforeAll(async () => {
    c = await startCluster({ validators: 4, slotMs: SLOT_MS, byzantine: [3], byzantineKinds: "finalize_votes" });
  }, 150_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it("is slashed on every honest node, on double-finalize evidence alone", async ({ onTestFailed }) => {
    reportOnFailure(() => c, onTestFailed);
    const honest = [0, 1, 2];
    const sets = await slashedEverywhere(c, 3, honest);
    const stake = BigInt(c.genesis.validators[0]!.stake);
    for (const set of sets) {
      expect(set[3]!.stake).toBe(stake / 2n);
      for (const v of honest) expect(set[v]!.slashed).toBe(false);
    }
    // What the honest nodes caught it doing: finalize votes for two blocks of one slot, and nothing else (it
    // attests and proposes honestly).
    const detected = honest.flatMap((i) =>
      c.nodes[i]!.logs.grep('"Slashable offence detected"').map(
        (l) => JSON.parse(l) as { kind: string; offender: number },
      ),
    );
    expect(detected.length).toBeGreaterThan(0);
    expect(new Set(detected.map((d) => `${d.kind}:${d.offender}`))).toEqual(new Set(["double_finalize:3"]));
    // Finality goes on without it.
    const before = await c.finality(0);
    await waitFinalizedBeyond(c, honest, new Map(honest.map((i) => [i, before.finalized.slot + 3])), 20_000);
  }, 120_000);
});
