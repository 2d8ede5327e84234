// `rustchain content` run as an operator runs it (the CLI process) against two real nodes joined over libp2p on
// loopback: a file added through node A's admin API is pinned on node B (fetched over bitswap), read back through
// B's trustless gateway and verified by the CLI, listed and unpinned.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { blsKeypairFromSeed, parseGenesis } from "@rustchain/shared";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { RustChainNode } from "../node/node.ts";
import { DEVNET_FEE_RECIPIENT, devnetGenesis } from "./devnetGenesis.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const run = promisify(execFile);
const dirs: string[] = [];
const nodes: RustChainNode[] = [];
afterAll(async () => {
  for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(ROOT, "bin/rustchain.js"), "content", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return stdout.trim();
}

describe("rustchain content", () => {
  it("add on node A, pin on node B over bitswap, get through B's gateway verified, list and unpin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rustchain-content-"));
    dirs.push(dir);
    const validator = blsKeypairFromSeed(new Uint8Array(32).fill(41));
    const genesis = parseGenesis(
      devnetGenesis([{ secretKey: validator.secretKey, feeRecipient: DEVNET_FEE_RECIPIENT }], 500),
    );
    const quiet = pino({ level: "silent" });
    const common = { genesis, rpc: { host: "127.0.0.1", port: 0 }, admin: { host: "127.0.0.1", port: 0 }, content: {} };
    const a = await RustChainNode.start(
      {
        ...common,
        datadir: join(dir, "a"),
        secretKey: validator.secretKey,
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"] },
      },
      quiet,
    );
    nodes.push(a);
    const b = await RustChainNode.start(
      {
        ...common,
        datadir: join(dir, "b"),
        network: { listenAddrs: ["/ip4/127.0.0.1/tcp/0"], bootstrap: a.network?.multiaddrs().map(String) ?? [] },
      },
      quiet,
    );
    nodes.push(b);
    for (let i = 0; i < 100 && (b.network?.peers().length ?? 0) === 0; i++)
      await new Promise((r) => setTimeout(r, 100));

    const model = randomBytes(1024 * 1024 + 7);
    await writeFile(join(dir, "model.bin"), model);
    const adminA = ["--admin-url", a.admin?.url ?? "", "--token-file", join(dir, "a", "admin-token")];
    const adminB = ["--admin-url", b.admin?.url ?? "", "--token-file", join(dir, "b", "admin-token")];
    const cid = await cli("add", join(dir, "model.bin"), ...adminA);
    expect(cid).toMatch(/^bafybei[a-z2-7]+$/);
    expect(await b.content?.has(cid)).toBe(false);

    const pin = JSON.parse(await cli("pin", cid, ...adminB)) as { cid: string; blocks: number };
    expect(pin).toMatchObject({ cid, blocks: 6 }); // root + five 256 KiB leaves (the last one 7 bytes)
    expect(await b.content?.has(cid)).toBe(true);

    await cli("get", cid, "--rpc-url", b.rpc.url, "--out", join(dir, "fetched.bin"));
    expect((await readFile(join(dir, "fetched.bin"))).equals(model)).toBe(true);

    expect((JSON.parse(await cli("pins", ...adminB)) as { cid: string }[]).map((p) => p.cid)).toEqual([cid]);
    expect(await cli("unpin", cid, ...adminB)).toBe("unpinned");
    expect(JSON.parse(await cli("pins", ...adminB))).toEqual([]);
  }, 60_000);
});
