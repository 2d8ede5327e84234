import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyConfig } from "./configFile.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rustchain-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function command() {
  return new Command("node")
    .option("--datadir <dir>")
    .option("--p2p-addr <host:port>")
    .option("--bootstrap <list>")
    .option("--max-peers <n>")
    .option("--no-dht-private-addrs")
    .option("--no-p2p")
    .option("--miner [address]")
    .option("--config <file>");
}

async function config(json: unknown): Promise<string> {
  const path = join(dir, `c${Math.random()}.json`);
  await writeFile(path, JSON.stringify(json));
  return path;
}

describe("rustchain node --config", () => {
  it("turns every setting into its flag; the command line wins over the environment, which wins over the file", async () => {
    const path = await config({
      datadir: "/var/lib/rustchain",
      p2pAddr: "0.0.0.0:9000",
      bootstrap: ["/ip4/1.2.3.4/tcp/9000/p2p/a", "/ip4/5.6.7.8/tcp/9000/p2p/b"],
      maxPeers: 40,
      dhtPrivateAddrs: false,
      p2p: true,
      miner: true,
    });
    const args = applyConfig(command(), ["--config", path, "--max-peers", "7"], {
      RUSTCHAIN_P2P_ADDR: "10.0.0.1:9001",
    });
    const parsed = command()
      .parse(["node", "x", ...args])
      .opts();
    expect(parsed).toMatchObject({
      datadir: "/var/lib/rustchain",
      p2pAddr: "10.0.0.1:9001",
      bootstrap: "/ip4/1.2.3.4/tcp/9000/p2p/a,/ip4/5.6.7.8/tcp/9000/p2p/b",
      maxPeers: "7",
      dhtPrivateAddrs: false,
      p2p: true,
      miner: true,
    });
    expect(parsed.config).toBeUndefined();
  });

  it("refuses unknown settings, a boolean for a value flag, non-JSON and oversized files, by name", async () => {
    const err = (args: string[]) => {
      try {
        applyConfig(command(), args, {});
        return "accepted";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err(["--config", await config({ datadri: "/x" })])).toMatch(/unknown setting\(s\) datadri/);
    expect(err(["--config", await config({ datadir: true })])).toMatch(/datadir takes a value/);
    expect(err(["--config", await config({ dhtPrivateAddrs: "no" })])).toMatch(/dhtPrivateAddrs is true or false/);
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ not json");
    expect(err(["--config", bad])).toMatch(/not valid JSON/);
    const big = join(dir, "big.json");
    await writeFile(big, `{"datadir":"${"x".repeat(1024 * 1024)}"}`);
    expect(err(["--config", big])).toMatch(/over 1048576 bytes/);
    expect(err(["--config", join(dir, "missing.json")])).toMatch(/cannot read/);
  });

  it("keeps the command line as it is without --config (the first argument included)", () => {
    expect(applyConfig(command(), ["--help"], {})).toEqual(["--help"]);
    expect(applyConfig(command(), ["--datadir", "/a"], {})).toEqual(["--datadir", "/a"]);
  });

  it("reads RUSTCHAIN_<FLAG> without a file", () => {
    const args = applyConfig(command(), [], { RUSTCHAIN_DATADIR: "/d", RUSTCHAIN_DHT_PRIVATE_ADDRS: "false" });
    expect(
      command()
        .parse(["node", "x", ...args])
        .opts(),
    ).toMatchObject({ datadir: "/d", dhtPrivateAddrs: false });
  });
});
