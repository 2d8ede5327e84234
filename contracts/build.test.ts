// The contract build across languages: the Rust toolchain and its errors, the ABI check of Rust sources, and the
// TypeScript modules it writes (viem must infer each call's types from them).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Abi } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meteringOptions } from "../validator/src/runtime/gasSchedule.ts";
import { instrumentModule } from "../validator/src/runtime/wasm/instrument.ts";
import { validateModule } from "../validator/src/runtime/wasm/validateModule.ts";
import {
  BUILD_DIR,
  buildContracts,
  CONTRACTS_DIR,
  ContractBuildError,
  checkModule,
  compileContract,
  tsIdentifier,
} from "./build.ts";
import { parseRustConstants, trimModule } from "./buildtools/rust.ts";

const run = promisify(execFile);
const REPO = join(CONTRACTS_DIR, "..");
let scratch: string;

beforeAll(async () => {
  await buildContracts();
  scratch = await mkdtemp(join(BUILD_DIR, "build-test-"));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("Rust contracts", () => {
  it("reads the dispatched signatures and emitted events, ignoring comments, strings elsewhere and lifetimes", () => {
    const c = parseRustConstants(`
      // "commented()"(args) => 1,
      /* nested /* "alsoCommented()"(_) => 2, */ still a comment */
      const T: [u8; 32] = event_topic("Ping(uint256)");
      fn f<'a>(x: &'a [u8]) -> char { let _ = "not a \\"sig\\"()"; '"' }
      contract! { "ping(uint256)"(args) => args.u256(0), "pong()"(_) => (), }
    `);
    expect(c.selectors.map((s) => [s.signature, s.value])).toEqual([
      ["ping(uint256)", "0x773acdef"],
      ["pong()", "0xbc9748a1"],
    ]);
    expect(c.topics.map((t) => t.signature)).toEqual(["Ping(uint256)"]);
  });

  it("refuses a contract whose functions or events differ from its ABI", async () => {
    const abi = JSON.parse(await readFile(join(CONTRACTS_DIR, "examples", "erc20.abi.json"), "utf8")) as Abi;
    const withExtra = [
      ...abi,
      {
        type: "function",
        name: "burn",
        inputs: [{ name: "v", type: "uint256" }],
        outputs: [],
        stateMutability: "nonpayable",
      },
    ] as Abi;
    const source = join(CONTRACTS_DIR, "rust", "examples", "erc20_rs.rs");
    await expect(compileContract(source, { abi: withExtra, outDir: scratch })).rejects.toThrow(
      /ABI function burn\(uint256\) is not dispatched by the source/,
    );
    const withoutApproval = abi.filter((i) => !(i.type === "event" && i.name === "Approval"));
    const refused = compileContract(source, { abi: withoutApproval, outDir: scratch });
    await expect(refused).rejects.toThrow(ContractBuildError);
    await expect(refused).rejects.toThrow(/event Approval\(address,address,uint256\) of the source is not in the ABI/);
  });

  it("trims rustc's extra exports and custom sections, leaving the code byte for byte", async () => {
    // rustc exports __data_end and __heap_base and writes a producers section; the artefact has neither.
    const built = await buildContracts({ only: ["erc20_rs"] });
    const module = built.erc20_rs!.module;
    expect(trimModule(module)).toEqual(module);
    // Panic locations name SDK files relative to contracts/rust: the same bytes from any checkout.
    expect(Buffer.from(module).includes(CONTRACTS_DIR)).toBe(false);
    expect(Buffer.from(module).includes("src/abi.rs")).toBe(true);
    const info = checkModule("erc20_rs", module, true);
    expect(info.exports.sort()).toEqual(["call", "deploy", "memory"]);
    expect(info.memoryPages).toEqual({ initial: 1, maximum: 64 });
  });

  it("every Rust module passes the node's deploy-time validation and metering instrumentation", async () => {
    const built = await buildContracts({ only: ["erc20_rs", "erc721_rs"] });
    for (const { module } of Object.values(built)) {
      expect(() => validateModule(module)).not.toThrow();
      expect(instrumentModule(module, meteringOptions).length).toBeGreaterThan(module.length);
    }
  });

  it("names the Debian packages when rustc is missing or does not run", async () => {
    for (const rustc of ["/nonexistent/rustc", "/bin/false"]) {
      const failed = await run("npx", ["tsx", "contracts/build.ts"], {
        cwd: REPO,
        env: { ...process.env, RUSTC: rustc },
      }).then(
        () => "built",
        (e: { stderr: string }) => e.stderr,
      );
      expect(failed).toMatch(/rustc.*libstd-rust-dev-wasm32/s);
    }
  });
});

describe("TypeScript modules", () => {
  it("export each ABI as const, so viem infers argument and result types", async () => {
    expect(tsIdentifier("erc721_rs")).toBe("erc721Rs");
    const program = join(scratch, "infer.ts");
    await writeFile(
      program,
      `import { createPublicClient, http } from "viem";
import { erc20RsAbi, erc20RsBytecode } from "../erc20_rs.ts";
import { erc721RsAbi } from "../erc721_rs.ts";
const client = createPublicClient({ transport: http("http://127.0.0.1:1") });
export async function typed(): Promise<void> {
  const uri: string = await client.readContract({ address: "0x00", abi: erc721RsAbi, functionName: "tokenURI", args: [1n] });
  const balance: bigint = await client.readContract({ address: "0x00", abi: erc20RsAbi, functionName: "balanceOf", args: ["0x00"] });
  // @ts-expect-error: tokenURI takes a uint256, not a string
  await client.readContract({ address: "0x00", abi: erc721RsAbi, functionName: "tokenURI", args: ["1"] });
  // @ts-expect-error: the ERC-20 has no mint
  await client.readContract({ address: "0x00", abi: erc20RsAbi, functionName: "mint", args: [] });
  const bytecode: \`0x\${string}\` = erc20RsBytecode;
  void [uri, balance, bytecode];
}
`,
    );
    const tsc = join(REPO, "node_modules", ".bin", "tsc");
    const flags = ["--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext"];
    const out = await run(tsc, [...flags, "--target", "es2022", "--allowImportingTsExtensions", program], {
      cwd: REPO,
    }).then(
      () => "",
      (e: { stdout: string }) => e.stdout,
    );
    expect(out).toBe("");
  });
});
