// The Worker as `wrangler deploy` builds it takes shared's pure-JS crypto. wrangler bundles with esbuild under its
// own conditions (workerd, worker, browser), which package.json's "#crypto" maps to shared/src/crypto/noble.ts; this
// runs `wrangler deploy --dry-run` and reads the bundle's source map: the edge Worker holds none of the node's native
// crypto (hash-wasm, @chainsafe/blst, the secp256k1 binding, crypto/native.ts), and a probe Worker importing shared's
// index and crypto module gets noble.ts. The workers test project checks the same for @cloudflare/vitest-plugin from
// inside workerd (edge/test/workers/sharedRuntime.test.ts).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const NATIVE_CRYPTO = [
  /\/hash-wasm\//,
  /\/@chainsafe\/blst/,
  /\/node_modules\/secp256k1\//,
  /shared\/src\/crypto\/native\.ts$/,
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "worker-bundle-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * `wrangler deploy --dry-run` of `args` (from the repository root); the source files of the bundle (named after the
 * entry point), relative to the root.
 */
async function bundleSources(name: string, entry: string, args: string[]): Promise<string[]> {
  const outdir = join(dir, name);
  await promisify(execFile)(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir, ...args], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
  });
  const map = JSON.parse(await readFile(join(outdir, `${entry}.js.map`), "utf8")) as { sources: string[] };
  return map.sources.map((s) => resolve(outdir, s).slice(ROOT.length + 1));
}

describe("the Worker bundle", () => {
  it("the edge Worker (wrangler.toml) holds no native crypto", async () => {
    const sources = await bundleSources("edge", "index", []);
    expect(sources).toContain("edge/src/worker/index.ts");
    expect(sources.filter((s) => NATIVE_CRYPTO.some((re) => re.test(s)))).toEqual([]);
  });

  it("a Worker importing shared's index and crypto module gets crypto/noble.ts", async () => {
    const probe = join(ROOT, "tests/support/sharedWorkerProbe.ts");
    const config = join(dir, "probe.toml");
    await writeFile(config, `name = "shared-probe"\nmain = "${probe}"\ncompatibility_date = "2026-11-01"\n`);
    const sources = await bundleSources("probe", "sharedWorkerProbe", ["--config", config]);
    expect(sources).toContain("shared/src/crypto/noble.ts");
    expect(sources).toContain("shared/src/hash.ts");
    expect(sources.filter((s) => NATIVE_CRYPTO.some((re) => re.test(s)))).toEqual([]);
  });
});
