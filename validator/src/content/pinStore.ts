// Pins: one small JSON file per pinned root, `<content dir>/pins/<CIDv1>`, written atomically (temp file + rename).
// The directory listing is the pin set; a pinned root's blocks are all held locally (pinning fetches them first).

import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CID } from "multiformats/cid";
import { cidToString, parseCid } from "./blockVerifier.ts";

export interface PinInfo {
  cid: string;
  /** Blocks in the DAG and their total size when it was pinned. */
  blocks: number;
  bytes: number;
  pinnedAt: string;
}

export class PinStore {
  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<PinStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new PinStore(dir);
  }

  async add(cid: CID, stats: { blocks: number; bytes: number }): Promise<PinInfo> {
    const info: PinInfo = { cid: cidToString(cid), ...stats, pinnedAt: new Date().toISOString() };
    const file = join(this.dir, info.cid);
    await writeFile(`${file}.tmp`, JSON.stringify(info), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return info;
  }

  /** True when the pin existed. */
  async remove(cid: CID): Promise<boolean> {
    const file = join(this.dir, cidToString(cid));
    try {
      await readFile(file);
    } catch {
      return false;
    }
    await rm(file, { force: true });
    return true;
  }

  async get(cid: CID): Promise<PinInfo | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, cidToString(cid)), "utf8")) as PinInfo;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<PinInfo[]> {
    const pins: PinInfo[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (name.endsWith(".tmp")) continue;
      const pin = await this.get(parseCid(name));
      if (pin) pins.push(pin);
    }
    return pins;
  }
}
