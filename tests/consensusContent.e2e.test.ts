// The content store on a 4-validator devnet of `rustchain node` processes (tests/support/cluster.ts), as issue 16's
// acceptance asks:
//   - a file added on validator 0 through its admin API gets the CID models/modelCid.ts names it by; validator 3 pins
//     it (fetched over bitswap on the validators' own libp2p), and validator 2, which never held it, serves it through
//     its trustless gateway as a CAR that the CLI's verifying client accepts byte for byte;
//   - Proof of AI by CID: genesis names the devnet model only by its CID. Validator 3 mines, started with a tampered
//     copy of the model (--ai-model), which it refuses (MODEL_CID_MISMATCH); once validator 0 adds the model, validator
//     3 fetches it by CID over bitswap, mines, and its proofs are accepted and scored on every node.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentGet } from "../validator/src/cli/contentCommand.ts";
import { devnetAiModel, ensurePoaiCircuit } from "../validator/src/consensus/ai/index.ts";
import { modelCid } from "../validator/src/models/modelCid.ts";
import { type Cluster, startCluster, waitUntil } from "./support/cluster.ts";

let c: Cluster | undefined;
let dir: string | undefined;
const aiModel = devnetAiModel();
const MINER = 3;

beforeAll(async () => {
  const circuit = await ensurePoaiCircuit();
  dir = await mkdtemp(join(tmpdir(), "content-e2e-"));
  const tampered = aiModel.slice();
  tampered[100] ^= 0x01;
  const tamperedFile = join(dir, "tampered-model.bin");
  await writeFile(tamperedFile, tampered);
  c = await startCluster({
    validators: 4,
    slotMs: 1000,
    ai: { model: aiModel, verifyingKey: circuit.verifyingKey },
    extraArgs: (i) => (i === MINER ? ["--miner", "--ai-model", tamperedFile] : []),
  });
}, 240_000);

afterAll(async () => {
  await c?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** POST /content/add on validator `i`'s admin API. */
async function adminAdd(cluster: Cluster, i: number, bytes: Uint8Array): Promise<string> {
  const token = (await readFile(join(cluster.nodes[i]!.datadir, "admin-token"), "utf8")).trim();
  const res = await fetch(new URL("/content/add", cluster.nodes[i]!.adminUrl), {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: bytes,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { cid: string }).cid;
}

/** Validator `i`'s JSON log lines (the harness keeps each node's recent output). */
function logLines(cluster: Cluster, i: number): Record<string, unknown>[] {
  return cluster.nodes[i]!.logs.since(0).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe("content on a 4-validator devnet", () => {
  it("a model added on validator 0 is pinned by validator 3 over bitswap and served verified by validator 2", async ({
    onTestFailed,
  }) => {
    onTestFailed(() => console.log(c?.dumpLogs(undefined, 60)));
    const cluster = c as Cluster;
    const model = randomBytes(2 * 1024 * 1024 + 99);
    const cid = await adminAdd(cluster, 0, model);
    expect(cid).toBe(modelCid(model).toString());

    const pin = (await cluster.admin(3, "admin_contentPin", [cid])) as { cid: string; blocks: number };
    expect(pin).toMatchObject({ cid, blocks: 10 }); // root + nine 256 KiB leaves
    expect(((await cluster.admin(3, "admin_contentPins")) as { cid: string }[]).map((p) => p.cid)).toContain(cid);

    const fetched = await contentGet(cluster.nodes[2]!.rpcUrl, cid);
    expect(Buffer.from(fetched).equals(model)).toBe(true);
  }, 60_000);

  it("Proof of AI names the model by CID: the miner refuses a tampered copy, fetches it over bitswap and is scored", async ({
    onTestFailed,
  }) => {
    onTestFailed(() => console.log(c?.dumpLogs(undefined, 80)));
    const cluster = c as Cluster;
    const cid = modelCid(aiModel).toString();
    for (let i = 0; i < 4; i++) {
      const ai = (await cluster.rpc(i, "rustchain_aiScores")) as { model: unknown };
      expect(ai.model).toEqual({ cid, inputs: 8, outputs: 4 });
    }
    // The miner refused its tampered file at start-up, and has had nothing to mine with.
    const refusal = logLines(cluster, MINER).find((l) => l.code === "MODEL_CID_MISMATCH");
    expect(refusal).toMatchObject({ expected: cid });
    expect(refusal?.got).not.toBe(cid);
    expect((await cluster.validatorSet(0))[MINER]!.aiScoreBps).toBe(0);

    // Validator 0 publishes the model; the miner's pending want is answered over bitswap.
    expect(await adminAdd(cluster, 0, aiModel)).toBe(cid);
    const fetched = await waitUntil(
      "the miner to fetch the model by CID",
      async () => logLines(cluster, MINER).find((l) => l.msg === "AI model fetched by CID and verified"),
      60_000,
      250,
    );
    expect(fetched).toMatchObject({ cid, bytes: aiModel.length });
    const scores = await waitUntil(
      "the miner's AI score to rise on every node",
      async () => {
        const sets = await Promise.all([0, 1, 2, 3].map((i) => cluster.validatorSet(i)));
        return sets.every((set) => set[MINER]!.aiScoreBps > 0) ? sets : undefined;
      },
      90_000,
      500,
    );
    for (const set of scores) expect(set.filter((v) => v.aiScoreBps > 0).map((v) => v.index)).toEqual([MINER]);
    // The miner now serves the model too (pinned after the fetch).
    const pins = (await cluster.admin(MINER, "admin_contentPins")) as { cid: string }[];
    expect(pins.map((p) => p.cid)).toContain(cid);
  }, 180_000);
});
