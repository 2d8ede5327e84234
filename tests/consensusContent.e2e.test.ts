// The content store on a 4-validator devnet of `rustchain node` processes (tests/support/cluster.ts), as issue 16's
// acceptance asks: a model added on validator 0 through its admin API gets the CID models/modelCid.ts names it by;
// validator 3 pins it (fetched over bitswap on the validators' own libp2p), and validator 2, which never held it,
// serves it through its trustless gateway as a CAR that the CLI's verifying client accepts byte for byte.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentGet } from "../validator/src/cli/contentCommand.ts";
import { modelCid } from "../validator/src/models/modelCid.ts";
import { type Cluster, startCluster } from "./support/cluster.ts";

let c: Cluster | undefined;

beforeAll(async () => {
  c = await startCluster({ validators: 4, slotMs: 1000 });
}, 150_000);

afterAll(async () => {
  await c?.stop();
}, 60_000);

describe("content on a 4-validator devnet", () => {
  it("a model added on validator 0 is pinned by validator 3 over bitswap and served verified by validator 2", async ({
    onTestFailed,
  }) => {
    onTestFailed(() => console.log(c?.dumpLogs(undefined, 60)));
    const cluster = c as Cluster;
    const model = randomBytes(2 * 1024 * 1024 + 99);
    const token = (await readFile(join(cluster.nodes[0]!.datadir, "admin-token"), "utf8")).trim();
    const res = await fetch(new URL("/content/add", cluster.nodes[0]!.adminUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: model,
    });
    expect(res.status).toBe(200);
    const { cid } = (await res.json()) as { cid: string };
    expect(cid).toBe(modelCid(model).toString());

    const pin = (await cluster.admin(3, "admin_contentPin", [cid])) as { cid: string; blocks: number };
    expect(pin).toMatchObject({ cid, blocks: 10 }); // root + nine 256 KiB leaves
    expect(((await cluster.admin(3, "admin_contentPins")) as { cid: string }[]).map((p) => p.cid)).toEqual([cid]);

    const fetched = await contentGet(cluster.nodes[2]!.rpcUrl, cid);
    expect(Buffer.from(fetched).equals(model)).toBe(true);
  }, 60_000);
});
