// The miner's model source on a real content store (filesystem blockstore, no network): a local file is used only
// when it hashes to the genesis CID (tampered bytes are refused and logged with MODEL_CID_MISMATCH), the model is
// added and pinned so peers can fetch it, a node without it waits (undefined) and picks it up once the store has it,
// and a model of another shape than genesis says is refused.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { devnetAiModel } from "../consensus/ai/devnetModel.ts";
import { ContentStore } from "../content/contentStore.ts";
import { defaultContentOptions } from "../content/options.ts";
import { AiModelSource } from "./aiModelSource.ts";
import { modelCid } from "./modelCid.ts";

const dirs: string[] = [];
const stores: ContentStore[] = [];

afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "ai-model-"));
  dirs.push(d);
  return d;
}

async function openStore(): Promise<ContentStore> {
  const store = await ContentStore.open(
    { ...defaultContentOptions, dir: await tempDir() },
    { logger: pino({ level: "silent" }) },
  );
  stores.push(store);
  return store;
}

/** A logger whose JSON lines land in `lines`. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

const model = devnetAiModel();
const genesisAi = { modelCid: modelCid(model).bytes, inputs: 8, outputs: 4 };

describe("AiModelSource", () => {
  it("uses a local file that hashes to the CID, and publishes it (added and pinned) for peers", async () => {
    const content = await openStore();
    const file = join(await tempDir(), "model.bin");
    await writeFile(file, model);
    const { logger } = capture();
    const source = new AiModelSource(genesisAi, { logger });
    expect(source.cid).toBe(modelCid(model).toString());
    await source.open({ content });
    expect(await source.offerFile(file)).toBe(true);
    expect(Buffer.from((await source.get()) as Uint8Array).equals(model)).toBe(true);
    expect((await content.pins()).map((p) => p.cid)).toEqual([source.cid]);
    expect(Buffer.from(await content.get(source.cid, { offline: true })).equals(model)).toBe(true);
  });

  it("refuses tampered bytes in the local file (MODEL_CID_MISMATCH) and never hands them to the miner", async () => {
    const content = await openStore();
    const file = join(await tempDir(), "model.bin");
    const tampered = model.slice();
    tampered[40] ^= 1;
    await writeFile(file, tampered);
    const { logger, lines } = capture();
    const source = new AiModelSource(genesisAi, { logger });
    await source.open({ content, file });
    const refusal = lines.find((l) => l.code === "MODEL_CID_MISMATCH");
    expect(refusal).toMatchObject({ expected: source.cid, got: modelCid(tampered).toString(), file });
    // Nothing was published, and the miner gets nothing until the real model is in the store.
    expect(await content.pins()).toEqual([]);
    expect(await source.get()).toBeUndefined();
    expect(lines.some((l) => l.msg === "AI model not available yet; the miner skips this epoch")).toBe(true);
    await content.add(model);
    expect(Buffer.from((await source.get()) as Uint8Array).equals(model)).toBe(true);
    expect((await content.pins()).map((p) => p.cid)).toEqual([source.cid]);
  });

  it("refuses a model whose shape differs from genesis", async () => {
    const content = await openStore();
    await content.add(model);
    const { logger, lines } = capture();
    const source = new AiModelSource({ ...genesisAi, outputs: 5 }, { logger });
    await source.open({ content });
    expect(await source.get()).toBeUndefined();
    expect(lines.some((l) => String(l.msg).includes("shape differs from genesis"))).toBe(true);
  });

  it("without a content store only a file can supply the model", async () => {
    const { logger, lines } = capture();
    const source = new AiModelSource(genesisAi, { logger });
    expect(await source.get()).toBeUndefined();
    expect(String(lines.at(-1)?.reason)).toContain("--ai-model");
    const missing = join(await tempDir(), "absent.bin");
    expect(await source.offerFile(missing)).toBe(false);
  });
});
