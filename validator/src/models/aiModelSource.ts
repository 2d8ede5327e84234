// Where a miner gets the Proof-of-AI model that genesis names by CID (docs/ai.md, "Proof of AI"; docs/models.md):
//   1. a local file given with `--ai-model <file>` (the operator's own copy), used only when its bytes hash to the CID;
//      bytes that do not are refused (MODEL_CID_MISMATCH, logged) and never used;
//   2. otherwise the content store: the node's own blocks, or its peers' over bitswap, each block verified against its
//      CID, and the whole file checked again against the model CID (fetchVerifiedModel).
// A model found either way must also have the genesis shape (input and output counts). Once found it is pinned in the
// content store, so this node serves it to the next miner. Until it is found the miner skips its epochs and asks again
// on the next slot; one fetch runs at a time.
import { readFile, stat } from "node:fs/promises";
import type { GenesisAi } from "@rustchain/shared";
import { CID } from "multiformats/cid";
import type { Logger } from "pino";
import { mlpShape } from "../consensus/ai/task.ts";
import type { ContentStore } from "../content/contentStore.ts";
import { ModelError } from "./errors.ts";
import { fetchVerifiedModel, MODEL_MAX_BYTES, modelCid } from "./modelCid.ts";

/** What the miner asks: the model's bytes, or undefined while it cannot be had (asked again later). */
export interface AiModelProvider {
  readonly cid: string;
  get(): Promise<Uint8Array | undefined>;
}

export interface AiModelSourceModules {
  logger: Logger;
}

export class AiModelSource implements AiModelProvider {
  readonly cid: string;
  private readonly root: CID;
  private model: Uint8Array | undefined;
  private pending: Promise<Uint8Array | undefined> | undefined;
  private lastFailure = "";
  /** The node's content store; without it only the local file can supply the model. */
  private content: ContentStore | undefined;

  constructor(
    private readonly ai: Pick<GenesisAi, "modelCid" | "inputs" | "outputs">,
    private readonly modules: AiModelSourceModules,
  ) {
    this.root = CID.decode(ai.modelCid);
    this.cid = this.root.toString();
  }

  /** Attaches the content store (once the node's network runs) and offers the local file, if any. */
  async open(o: { content?: ContentStore; file?: string }): Promise<void> {
    this.content = o.content;
    if (o.file) await this.offerFile(o.file);
  }

  /**
   * Offers a local copy (`--ai-model`). Returns true when it is the model: it is kept, and added to the content store
   * so peers can fetch it. Bytes that do not hash to the CID, or have another shape, are refused (logged, false).
   */
  async offerFile(path: string): Promise<boolean> {
    const log = this.modules.logger;
    let bytes: Uint8Array;
    try {
      const { size } = await stat(path);
      if (size > MODEL_MAX_BYTES) throw new ModelError({ code: "MODEL_TOO_LARGE", size, limit: MODEL_MAX_BYTES });
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      log.error({ err: e, file: path }, "Cannot read the AI model file; fetching the model by CID instead");
      return false;
    }
    const got = bytes.length === 0 ? "none" : modelCid(bytes).toString();
    if (got !== this.cid) {
      log.error(
        { code: "MODEL_CID_MISMATCH", file: path, expected: this.cid, got },
        "Refused the AI model file: its bytes do not hash to the genesis model CID",
      );
      return false;
    }
    if (!this.checkShape(bytes)) return false;
    this.model = bytes;
    await this.publish(bytes);
    log.info({ cid: this.cid, bytes: bytes.length, file: path }, "AI model loaded from file");
    return true;
  }

  async get(): Promise<Uint8Array | undefined> {
    if (this.model) return this.model;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<Uint8Array | undefined> {
    const { content } = this;
    const { logger } = this.modules;
    if (!content) {
      this.failed("no content store to fetch it from (pass --ai-model <file> or run with the content store)");
      return undefined;
    }
    const started = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = await fetchVerifiedModel(this.root, (cid) => content.get(cid.toString()));
    } catch (e) {
      this.failed((e as Error).message, (e as { type?: { code?: string } }).type?.code);
      return undefined;
    }
    if (!this.checkShape(bytes)) return undefined;
    this.model = bytes;
    await content.pin(this.cid).catch((e) => logger.warn({ err: e, cid: this.cid }, "Cannot pin the AI model"));
    logger.info(
      { cid: this.cid, bytes: bytes.length, ms: Math.round(performance.now() - started) },
      "AI model fetched by CID and verified",
    );
    return bytes;
  }

  private checkShape(bytes: Uint8Array): boolean {
    let inputs: number;
    let outputs: number;
    try {
      ({ inputs, outputs } = mlpShape(bytes));
    } catch (e) {
      this.modules.logger.error({ err: e, cid: this.cid }, "The AI model named by genesis is not a valid model");
      return false;
    }
    if (inputs !== this.ai.inputs || outputs !== this.ai.outputs) {
      this.modules.logger.error(
        { cid: this.cid, inputs, outputs, genesis: { inputs: this.ai.inputs, outputs: this.ai.outputs } },
        "The AI model's shape differs from genesis ai.inputs/ai.outputs; not mining",
      );
      return false;
    }
    return true;
  }

  private async publish(bytes: Uint8Array): Promise<void> {
    const content = this.content;
    if (!content) return;
    try {
      const added = await content.add(bytes);
      if (added.cid !== this.cid)
        throw new ModelError({ code: "MODEL_CID_MISMATCH", expected: this.cid, got: added.cid });
      await content.pin(this.cid);
    } catch (e) {
      this.modules.logger.warn({ err: e, cid: this.cid }, "Cannot add the AI model to the content store");
    }
  }

  /** Logged at warn once per distinct reason, then at debug, so a long wait does not flood the log. */
  private failed(reason: string, code?: string): void {
    const repeat = reason === this.lastFailure;
    this.lastFailure = reason;
    const log = this.modules.logger;
    (repeat ? log.debug.bind(log) : log.warn.bind(log))(
      { cid: this.cid, code, reason },
      "AI model not available yet; the miner skips this epoch",
    );
  }
}
