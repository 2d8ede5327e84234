// `npm run release`: the packaged release, compiled JavaScript that runs with plain `node` (no tsx at run time).
//
//   dist/rustchain-<version>/
//     VERSION                     <root package.json version>-<git short hash>[-dirty]
//     package.json                name, version, engines (node >= 22.15: zlib zstd) and the external runtime
//                                 dependencies only
//     bin/rustchain               sh launcher: exec node lib/rustchain.js (`rustchain bridge|edge …` → their CLIs)
//     bin/rustchain-relayer       sh launcher: exec node lib/rustchain-relayer.js
//     lib/*.js                    esbuild bundles (ESM, code-split) + the worker-thread entry points
//     node_modules/               the external modules (rocksdb, secp256k1, @chainsafe/blst, piscina) and their
//                                 dependencies, copied from this checkout with this platform's prebuilt binaries only
//     systemd/*.service           infra/systemd units
//     config/*.example            infra/config: node.json and the units' environment files, to copy to /etc/rustchain
//     proto/                      the gRPC API's .proto files, loaded at run time (docs/grpc.md)
//     install.sh                  infra/scripts/install.sh
//   dist/rustchain-<version>.tar.gz
//
// Native modules and piscina stay external (RUNTIME_EXTERNALS); everything else, the workspace packages included,
// is bundled. Worker threads (piscina) load their entry by URL next to the importing file: the source's
// `new URL("./xWorker.ts", import.meta.url)` is rewritten to `./xWorker.js`, which is built as its own entry point in
// the same directory. The multi-process devnet (`rustchain devnet --validators N`) and the devnet PoAI circuit build
// spawn tsx on the sources: they stay tools of a source checkout, as do contract projects (`rustchain contracts`).
//
// Usage: tsx scripts/release.ts [--out-dir <dir>] [--no-tar]

import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Kept out of the bundle and shipped in node_modules/: packages with a compiled addon (a .node binary cannot be
 * bundled), piscina, which starts its threads from its own `worker.js` next to its sources, and the gRPC packages,
 * which read their .proto files (health, reflection) from their own directories at run time.
 */
export const RUNTIME_EXTERNALS = [
  "@nxtedition/rocksdb",
  "secp256k1",
  "@chainsafe/blst",
  "piscina",
  "@grpc/grpc-js",
  "@grpc/proto-loader",
  "@grpc/reflection",
  "grpc-health-check",
];
/**
 * Optional peers some bundled packages try to require (ws' native accelerators); absent is fine. And vitest, which
 * only `rustchain contracts test` loads (on demand): contract projects are a tool of a source checkout, which has the
 * SDKs, the compilers and vitest; from a release the command says so.
 */
const OPTIONAL_EXTERNALS = ["bufferutil", "utf-8-validate", "vitest", "vitest/node"];

/** Worker-thread entry points: name in lib/ → source. */
const WORKERS: Record<string, string> = {
  recoveryWorker: "validator/src/execution/recoveryWorker.ts",
  chunkWorker: "validator/src/snapshot/chunkWorker.ts",
};

/** The `rustchain` dispatcher, as bin/rustchain.js does it in a checkout but without tsx. */
const DISPATCHER = `
if (process.argv[2] === "edge") {
  process.argv.splice(2, 1);
  await import(${JSON.stringify(join(ROOT, "edge/src/node/cli.ts"))});
} else if (process.argv[2] === "bridge") {
  process.argv.splice(2, 1);
  await import(${JSON.stringify(join(ROOT, "bridge-relayer/src/cli/main.ts"))});
} else {
  await import(${JSON.stringify(join(ROOT, "validator/src/cli/main.ts"))});
}
`;

// CommonJS dependencies bundled into ESM still call require() for Node built-ins and read __dirname.
const BANNER = [
  'import { createRequire as __rustchainCreateRequire } from "node:module";',
  'import { fileURLToPath as __rustchainFileURLToPath } from "node:url";',
  'import { dirname as __rustchainDirname } from "node:path";',
  "const require = __rustchainCreateRequire(import.meta.url);",
  "const __filename = __rustchainFileURLToPath(import.meta.url);",
  "const __dirname = __rustchainDirname(__filename);",
].join("\n");

function launcher(entry: string): string {
  return `#!/bin/sh
# Runs the compiled ${entry} with node (set RUSTCHAIN_NODE to use another node binary).
set -eu
here=$(dirname "$(readlink -f "$0")")
exec "\${RUSTCHAIN_NODE:-node}" --enable-source-maps "$here/../lib/${entry}" "$@"
`;
}

/** `new URL("./xWorker.ts", import.meta.url)` → `./xWorker.js`; any other `.ts` URL is an error unless known. */
function workerUrlPlugin(): Plugin {
  const re = /new URL\("\.\/([A-Za-z0-9]+)\.ts", import\.meta\.url\)/g;
  return {
    name: "worker-urls",
    setup(b) {
      b.onLoad({ filter: /\/(validator|bridge-relayer|edge|shared)\/src\/.*\.ts$/ }, (args) => {
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("import.meta.url")) return undefined;
        const contents = source.replace(re, (whole, name: string) =>
          name in WORKERS ? `new URL("./${name}.js", import.meta.url)` : whole,
        );
        return { contents, loader: "ts" };
      });
    },
  };
}

export function releaseVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  let hash = "nogit";
  let dirty = false;
  try {
    hash = git("rev-parse", "--short", "HEAD");
    dirty = git("status", "--porcelain", "--untracked-files=no").length > 0;
  } catch {
    // not a git checkout (a source tarball): the version says so
  }
  return `${pkg.version}-${hash}${dirty ? "-dirty" : ""}`;
}

function installedVersion(name: string, from = ROOT): { dir: string; version: string } {
  const dir = join(from, "node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string };
  return { dir, version: pkg.version };
}

/**
 * Directories of native packages and their runtime dependencies that sit in the root node_modules. A dependency npm
 * nested inside its dependent (a version conflict, e.g. abstract-level's own level-supports) is copied with that
 * package's directory; its own dependencies are still looked up the way Node resolves them.
 */
function closure(names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  const platformSuffix = `${process.platform}-${process.arch}`;
  const visit = (name: string, optional: boolean, from: string) => {
    const nested = join(from, "node_modules", name);
    const dir = from !== ROOT && existsSync(join(nested, "package.json")) ? nested : join(ROOT, "node_modules", name);
    if (seen.has(dir)) return;
    if (!existsSync(join(dir, "package.json"))) {
      if (optional) return;
      throw new Error(`release: ${name} is not installed (run npm ci)`);
    }
    seen.add(dir);
    if (dir === join(ROOT, "node_modules", name)) out.set(name, dir);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, false, dir);
    // optional dependencies are per-platform binaries: only this platform's
    for (const dep of Object.keys(pkg.optionalDependencies ?? {}))
      if (dep.includes(platformSuffix)) visit(dep, true, dir);
  };
  for (const n of names) visit(n, false, ROOT);
  return out;
}

/**
 * What of a native package goes into the release: no sources or build trees; the addon compiled in this checkout
 * (build/Release/*.node) when there is one, which node-gyp-build prefers and which is the binary the tests ran, else this
 * platform's prebuilds only.
 */
function keepInRelease(pkgDir: string, path: string): boolean {
  const rel = relative(pkgDir, path);
  if (rel === "") return true;
  const parts = rel.split("/");
  const top = parts[0] as string;
  if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) return false; // TypeScript sources next to their build
  // A package without an addon is JavaScript all through: its build/ and src/ are what runs (grpc-js, protobufjs).
  if (!existsSync(join(pkgDir, "binding.gyp")) && !existsSync(join(pkgDir, "prebuilds")))
    return !["test", "tests", ".github"].includes(top);
  const localBuild = existsSync(join(pkgDir, "build", "Release"));
  if (top === "build") {
    if (!localBuild) return false;
    return (
      rel === "build" ||
      rel === "build/Release" ||
      (parts.length === 3 && parts[1] === "Release" && rel.endsWith(".node"))
    );
  }
  if (["deps", "src", "test", "tests", ".github"].includes(top)) return false;
  if (rel.endsWith(".zip")) return false; // @nxtedition/rocksdb also ships every platform's binary zipped
  if (/\.(cc|c|h|hpp|gyp|md)$/.test(rel) && !/^(README|LICENSE)/i.test(basename(rel))) return false;
  if (top === "prebuilds") {
    if (localBuild) return false;
    const platform = parts[1];
    return platform === undefined || platform.startsWith(`${process.platform}-`);
  }
  return true;
}

function dirSize(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of execFileSync("find", [path, "-type", "f", "-printf", "%s\n"], { encoding: "utf8" }).split("\n"))
    if (entry) total += Number(entry);
  return total;
}

export interface ReleaseResult {
  version: string;
  dir: string;
  tarball?: string;
  bytes: number;
  tarballBytes?: number;
}

export async function buildRelease(opts: { outDir?: string; tar?: boolean } = {}): Promise<ReleaseResult> {
  const version = releaseVersion();
  const outDir = resolve(opts.outDir ?? join(ROOT, "dist"));
  const name = `rustchain-${version}`;
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });

  const entryPoints = [
    { in: "rustchain-entry", out: "rustchain" },
    { in: join(ROOT, "bridge-relayer/src/main.ts"), out: "rustchain-relayer" },
    ...Object.entries(WORKERS).map(([out, src]) => ({ in: join(ROOT, src), out })),
  ];
  await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir: join(dir, "lib"),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    sourcemap: true,
    minifySyntax: true,
    legalComments: "none",
    logLevel: "warning",
    external: [...RUNTIME_EXTERNALS, ...OPTIONAL_EXTERNALS],
    banner: { js: BANNER },
    chunkNames: "chunk-[hash]",
    // baked into the bundle: `rustchain --version` reads it (validator/src/cli/main.ts)
    define: { "process.env.RUSTCHAIN_VERSION": JSON.stringify(version) },
    plugins: [
      {
        name: "rustchain-entry",
        setup(b) {
          b.onResolve({ filter: /^rustchain-entry$/ }, () => ({ path: "rustchain-entry", namespace: "rustchain" }));
          b.onLoad({ filter: /.*/, namespace: "rustchain" }, () => ({
            contents: DISPATCHER,
            loader: "js",
            resolveDir: ROOT,
          }));
        },
      },
      workerUrlPlugin(),
    ],
  });

  for (const [bin, entry] of [
    ["rustchain", "rustchain.js"],
    ["rustchain-relayer", "rustchain-relayer.js"],
  ] as const) {
    writeFileSync(join(dir, "bin", bin), launcher(entry));
    chmodSync(join(dir, "bin", bin), 0o755);
  }

  const deps = closure(RUNTIME_EXTERNALS);
  for (const [dep, src] of deps)
    cpSync(src, join(dir, "node_modules", dep), { recursive: true, filter: (p) => keepInRelease(src, p) });
  const dependencies = Object.fromEntries(RUNTIME_EXTERNALS.map((n) => [n, installedVersion(n).version]));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "rustchain", version, private: true, type: "module", engines: { node: ">=22.15" }, dependencies }, null, 2)}\n`,
  );
  writeFileSync(join(dir, "VERSION"), `${version}\n`);
  cpSync(join(ROOT, "infra/systemd"), join(dir, "systemd"), {
    recursive: true,
    filter: (p) => !p.endsWith(".test.ts"),
  });
  cpSync(join(ROOT, "infra/config"), join(dir, "config"), { recursive: true });
  // The gRPC API's definitions, read at run time (validator/src/grpc/protos.ts looks next to lib/).
  cpSync(join(ROOT, "proto"), join(dir, "proto"), { recursive: true });
  cpSync(join(ROOT, "infra/scripts/install.sh"), join(dir, "install.sh"));
  chmodSync(join(dir, "install.sh"), 0o755);

  const result: ReleaseResult = { version, dir, bytes: dirSize(dir) };
  if (opts.tar !== false) {
    const tarball = join(outDir, `${name}.tar.gz`);
    execFileSync("tar", ["-czf", tarball, "-C", outDir, "--owner=0", "--group=0", name]);
    result.tarball = tarball;
    result.tarballBytes = statSync(tarball).size;
  }
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf("--out-dir");
  const r = await buildRelease({
    outDir: outIdx >= 0 ? args[outIdx + 1] : undefined,
    tar: !args.includes("--no-tar"),
  });
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(`release ${r.version}: ${relative(process.cwd(), r.dir)} (${mb(r.bytes)} MiB)`);
  if (r.tarball) console.log(`tarball ${relative(process.cwd(), r.tarball)} (${mb(r.tarballBytes ?? 0)} MiB)`);
  console.log(`release version=${r.version} dir_mib=${mb(r.bytes)} tar_mib=${mb(r.tarballBytes ?? 0)}`);
}
