// Rust contracts (contracts/rust/examples/*.rs) with the no_std SDK crate contracts/rust (rustchain_sdk), compiled
// by Debian's rustc 1.63 for wasm32-unknown-unknown (packages rustc, cargo, libstd-rust-dev-wasm32; the rustup
// toolchain usually first on PATH has no wasm32 target, so the compiler is /usr/bin/rustc unless RUSTC says
// otherwise). No cargo: the SDK is compiled once per SDK stamp to an rlib in contracts/build/rust/, each contract is a
// cdylib linked against it with LTO.
//
// Flags: opt-level=z (deploying costs gas per byte; z gives the smallest modules, s is 25% larger), panic=abort
// (the SDK's panic handler reverts with Panic(0x01)), target-cpu=mvp (the runtime accepts MVP opcodes only), one
// codegen unit and LTO; warnings are errors. The link gets the C contracts' memory layout: a 16 KiB stack placed
// first (rustc passes --stack-first), one initial page, at most 64.
//
// rustc exports `__data_end` and `__heap_base` from every cdylib and leaves custom sections (producers); the module
// is trimmed to the exports a contract may have (memory, call, deploy) and no custom sections.
//
// Selectors and topics are computed by the compiler from their signatures (`selector`, `event_topic`); what the build
// checks against the ABI is the set of signatures the source dispatches ("sig"(args) => … arms of contract! or
// dispatch!) and emits (event_topic("sig")).
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { toEventSelector, toFunctionSelector } from "viem";
import { INITIAL_MEMORY_BYTES, STACK_BYTES } from "./c.ts";
import { type SourceConstants, stripComments } from "./constants.ts";
import { ContractBuildError } from "./errors.ts";
import { tempPath } from "./files.ts";
import type { ContractLanguage } from "./language.ts";
import { CONTRACT_EXPORTS, MAX_MEMORY_PAGES, Reader } from "./moduleCheck.ts";
import { BUILD_DIR, CONTRACTS_DIR } from "./paths.ts";
import { memoizedProbe, programOutput, run } from "./toolchain.ts";

export const RUST_DIR = join(CONTRACTS_DIR, "rust");
export const RUST_SDK_DIR = join(RUST_DIR, "src");
export const RUST_EXAMPLES_DIR = join(RUST_DIR, "examples");
const RUST_TARGET = "wasm32-unknown-unknown";

export const RUSTC_FLAGS: readonly string[] = [
  "--edition=2021",
  `--target=${RUST_TARGET}`,
  "-Copt-level=z",
  "-Cpanic=abort",
  "-Ctarget-cpu=mvp",
  "-Ccodegen-units=1",
  "-Cdebug-assertions=off",
  // Panic locations name their file: relative paths, so a module is the same byte for byte from any checkout.
  `--remap-path-prefix=${RUST_DIR}/=`,
  "-Dwarnings",
];

/** Link flags of a contract (a cdylib), on top of RUSTC_FLAGS. */
export const RUST_LINK_FLAGS: readonly string[] = [
  "--crate-type=cdylib",
  "-Clto",
  `-Clink-arg=-zstack-size=${STACK_BYTES}`,
  `-Clink-arg=--initial-memory=${INITIAL_MEMORY_BYTES}`,
  `-Clink-arg=--max-memory=${MAX_MEMORY_PAGES * 65536}`,
  "-Clink-arg=--strip-all",
];

const INSTALL_HINT =
  "install the Debian packages `rustc`, `cargo` and `libstd-rust-dev-wasm32` " +
  "(apt-get install rustc cargo libstd-rust-dev-wasm32), or set RUSTC to a rustc with the wasm32-unknown-unknown target";

const findRustc = memoizedProbe(async () => {
  const rustc = process.env.RUSTC ?? "/usr/bin/rustc";
  const version = await programOutput(rustc, ["--version", "--verbose"], INSTALL_HINT);
  const libdir = (await run(rustc, ["--print", "target-libdir", `--target=${RUST_TARGET}`])).stdout.trim();
  const libs = await readdir(libdir).catch(() => [] as string[]);
  if (!libs.some((f) => f.startsWith("libcore-"))) {
    throw new ContractBuildError(`${rustc} has no ${RUST_TARGET} standard library (in ${libdir}): ${INSTALL_HINT}`);
  }
  return { rustc, version };
});

/** The SDK's sources, sorted by name: part of every Rust contract's stamp. */
async function sdkSources(): Promise<{ file: string; text: string }[]> {
  const files = (await readdir(RUST_SDK_DIR)).filter((f) => f.endsWith(".rs")).sort();
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(RUST_SDK_DIR, file), "utf8") })));
}

async function rustc(args: string[], what: string): Promise<void> {
  const { rustc } = await findRustc();
  try {
    await run(rustc, args, { cwd: RUST_DIR });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new ContractBuildError(`${what}: rustc failed\n${err.stderr?.trim() || err.message}`);
  }
}

const sdkBuilds = new Map<string, Promise<string>>();

/** The SDK compiled to an rlib, once per content of its sources, flags and compiler: returns its path. */
function sdkRlib(stamp: string): Promise<string> {
  let build = sdkBuilds.get(stamp);
  if (!build) {
    build = (async () => {
      const dir = join(BUILD_DIR, "rust");
      const path = join(dir, `librustchain_sdk-${stamp.slice(0, 16)}.rlib`);
      if (
        await readFile(path).then(
          () => true,
          () => false,
        )
      ) {
        return path;
      }
      await mkdir(dir, { recursive: true });
      const scratch = tempPath(path);
      try {
        await rustc(
          [
            ...RUSTC_FLAGS,
            "--crate-type=rlib",
            "--crate-name=rustchain_sdk",
            "-o",
            scratch,
            join(RUST_SDK_DIR, "lib.rs"),
          ],
          "contracts/rust (the SDK)",
        );
        await rename(scratch, path);
      } finally {
        await rm(scratch, { force: true });
      }
      return path;
    })();
    sdkBuilds.set(stamp, build);
    build.catch(() => sdkBuilds.delete(stamp));
  }
  return build;
}

async function sdkStamp(): Promise<string> {
  const { version } = await findRustc();
  return createHash("sha256")
    .update(JSON.stringify([RUSTC_FLAGS, version, await sdkSources()]))
    .digest("hex");
}

/** The functions a Rust contract dispatches ("sig"(args) => …) and the events it emits (event_topic("sig")). */
export function parseRustConstants(source: string): SourceConstants {
  const src = stripComments(source, "rust");
  const selectors = [...src.matchAll(/"([^"\\]+)"\s*\(\s*(?:_|[A-Za-z_]\w*)\s*\)\s*=>/g)].map((m) => ({
    signature: m[1]!,
    value: toFunctionSelector(m[1]!),
  }));
  const topics = [...src.matchAll(/\bevent_topic\s*\(\s*"([^"\\]+)"\s*\)/g)].map((m) => ({
    signature: m[1]!,
    value: toEventSelector(m[1]!),
  }));
  return { selectors, topics };
}

// ---------------------------------------------------------------------------------------------------------------
// Trimming rustc's module
// ---------------------------------------------------------------------------------------------------------------

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * The module without custom sections and with only the exports named in `keep` (the rest of the module byte for
 * byte). The linker's extra exports are globals nothing refers to by export, so dropping them changes no code.
 */
export function trimModule(module: Uint8Array, keep: readonly string[] = CONTRACT_EXPORTS): Uint8Array {
  const out: number[] = [...module.subarray(0, 8)];
  const r = new Reader(module, 8);
  while (r.pos < module.length) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    if (id === 0) continue;
    if (id !== 7) {
      out.push(id, ...leb128(size), ...module.subarray(start, start + size));
      continue;
    }
    const s = new Reader(module, start, start + size);
    const entries: number[][] = [];
    const n = s.u32();
    for (let i = 0; i < n; i++) {
      const from = s.pos;
      const len = s.u32();
      const name = new TextDecoder().decode(module.subarray(s.pos, s.pos + len));
      s.skip(len);
      s.u8(); // kind
      s.u32(); // index
      if (keep.includes(name)) entries.push([...module.subarray(from, s.pos)]);
    }
    const body = [...leb128(entries.length), ...entries.flat()];
    out.push(7, ...leb128(body.length), ...body);
  }
  return new Uint8Array(out);
}

/** Rust contracts. */
export const rustLanguage: ContractLanguage = {
  id: "rust",
  extension: ".rs",
  sourceDirs: [RUST_EXAMPLES_DIR],
  async stampInputs(sourcePath) {
    const [{ version }, sdk, source] = await Promise.all([findRustc(), sdkSources(), readFile(sourcePath, "utf8")]);
    return [RUSTC_FLAGS, RUST_LINK_FLAGS, version, sdk, source];
  },
  async constants(sourcePath) {
    return parseRustConstants(await readFile(sourcePath, "utf8"));
  },
  async compile({ name, sourcePath, scratch }) {
    const rlib = await sdkRlib(await sdkStamp());
    await rustc(
      [
        ...RUSTC_FLAGS,
        ...RUST_LINK_FLAGS,
        // A project's contract (outside contracts/rust): its own directory is the root of its panic locations, so
        // its module does not depend on where the project sits.
        ...(resolve(sourcePath).startsWith(`${RUST_DIR}/`)
          ? []
          : [`--remap-path-prefix=${dirname(resolve(sourcePath))}/=`]),
        `--crate-name=${name}`,
        `--extern=rustchain_sdk=${rlib}`,
        "-o",
        scratch,
        sourcePath,
      ],
      name,
    );
    return trimModule(new Uint8Array(await readFile(scratch)));
  },
};
