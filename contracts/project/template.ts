// The project `rustchain contracts new <name> --lang rust|c|cpp` writes: a counter contract in the chosen language
// that shows the four things a contract test checks (a constructor, a state-changing function, an event and a revert
// reason), its ABI, a viem test on the in-process chain, rustchain.json, package.json and a README. The three
// languages share the ABI and the test, so each template is the same contract written three ways.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Abi, toEventSelector, toFunctionSelector } from "viem";
import { tsIdentifier } from "../build.ts";
import {
  ContractProjectError,
  checkProjectName,
  languageById,
  PROJECT_BUILD_DIR,
  PROJECT_FILE,
  PROJECT_TESTS,
} from "./projectFile.ts";

const COUNT = "count()";
const INCREMENT = "increment(uint256)";
const INCREMENTED = "Incremented(address,uint256)";
/** The revert reason of increment(0), the same in every language. */
export const ZERO_INCREMENT_REASON = "Counter: zero increment";

const ABI: Abi = [
  {
    type: "constructor",
    stateMutability: "nonpayable",
    inputs: [{ name: "initial", type: "uint256", internalType: "uint256" }],
  },
  {
    type: "function",
    name: "count",
    stateMutability: "view",
    inputs: [],
    outputs: [{ name: "", type: "uint256", internalType: "uint256" }],
  },
  {
    type: "function",
    name: "increment",
    stateMutability: "nonpayable",
    inputs: [{ name: "by", type: "uint256", internalType: "uint256" }],
    outputs: [],
  },
  {
    type: "event",
    name: "Incremented",
    anonymous: false,
    inputs: [
      { name: "by", type: "address", indexed: true, internalType: "address" },
      { name: "newValue", type: "uint256", indexed: false, internalType: "uint256" },
    ],
  },
];

/** RC_SEL("sig", 0x…) and RC_TOPIC("sig", "\x…") for the C and C++ templates, computed here so they are right. */
function clangConstants(): string {
  const topic = toEventSelector(INCREMENTED).slice(2);
  const escaped = (hex: string) => hex.replace(/../g, (b) => `\\x${b}`);
  return [
    `#define SEL_COUNT RC_SEL("${COUNT}", ${toFunctionSelector(COUNT)})`,
    `#define SEL_INCREMENT RC_SEL("${INCREMENT}", ${toFunctionSelector(INCREMENT)})`,
    `#define TOPIC_INCREMENTED \\`,
    `  RC_TOPIC("${INCREMENTED}", "${escaped(topic.slice(0, 32))}" \\`,
    `           "${escaped(topic.slice(32))}")`,
  ].join("\n");
}

const HEADER = (name: string, sdk: string) => `${name}: a counter.
  constructor(uint256 initial)
  count() view returns (uint256)
  increment(uint256 by)   count += by; emits Incremented(address indexed by, uint256 newValue);
                          reverts with "${ZERO_INCREMENT_REASON}" when by is 0, Panic(0x11) on overflow
Storage: slot 0 holds the count. SDK: ${sdk}; see contracts/README.md in the RustChain repository.`;

/** The top of a C or C++ template: its header comment, the SDK's include and the selector and topic constants. */
function clangPrologue(name: string, header: string, sdk: string): string {
  const comment = HEADER(name, sdk)
    .split("\n")
    .map((l) => ` * ${l}`.trimEnd())
    .join("\n");
  return `/*
${comment}
 */
#include "${header}"

/* The build checks each constant against keccak256 of its signature, and both lists against ${name}.abi.json. */
${clangConstants()}`;
}

function cSource(name: string): string {
  return `${clangPrologue(name, "rustchain.h", "rustchain.h")}

static const uint8_t SLOT_COUNT[32] = {[31] = 0};

RC_EXPORT("deploy") void deploy(void) {
  rc_require_nonpayable();
  rc_abi args = rc_deploy_args();
  u256 initial = abi_u256(&args, 0);
  sstore_u256(SLOT_COUNT, &initial);
}

RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc_require_nonpayable();
  rc_abi args = rc_call_args();
  switch (selector) {
  case SEL_COUNT: {
    u256 count = sload_u256(SLOT_COUNT);
    return_u256(&count);
  }
  case SEL_INCREMENT: {
    u256 by = abi_u256(&args, 0);
    rc_require(!u256_is_zero(&by), "${ZERO_INCREMENT_REASON}");
    u256 count = sload_u256(SLOT_COUNT);
    count = u256_add_checked(&count, &by);
    sstore_u256(SLOT_COUNT, &count);
    rc_address sender = msg_sender();
    uint8_t who[32], data[32];
    word_from_address(who, &sender);
    u256_to_be(&count, data);
    emit_event1(TOPIC_INCREMENTED, who, data, 32);
    return_void();
  }
  default:
    rc_revert_empty(); /* an unknown selector: no fallback */
  }
}
`;
}

function cppSource(name: string): string {
  return `${clangPrologue(name, "rustchain.hpp", "rustchain.hpp (C++17 over rustchain.h)")}

namespace {

// A function, not a global: a global with a constructor would need __wasm_call_ctors, which nothing runs.
rc::Slot count_slot() { return rc::Slot::at(0); }

[[noreturn]] void increment(const rc::Args &args) {
  rc::U256 by = args.u256(0);
  rc::require(!by.is_zero(), "${ZERO_INCREMENT_REASON}");
  rc::U256 count = count_slot().load_u256() + by;  // Panic(0x11) on overflow
  count_slot().store(count);
  uint8_t who[32];
  rc::msg_sender().to_word(who);
  rc::emit(TOPIC_INCREMENTED, who, nullptr, nullptr, rc::Encoder(1).u256(0, count));
  rc::return_nothing();
}

}  // namespace

extern "C" RC_EXPORT("deploy") void deploy(void) {
  rc::nonpayable();
  count_slot().store(rc::Args::deploy().u256(0));
}

extern "C" RC_EXPORT("call") void call(void) {
  uint32_t selector = rc_selector();
  rc::nonpayable();
  rc::Args args = rc::Args::call();
  switch (selector) {
    case SEL_COUNT:
      rc::return_value(count_slot().load_u256());
    case SEL_INCREMENT:
      increment(args);
    default:
      rc_revert_empty();  // an unknown selector: no fallback
  }
}
`;
}

function rustSource(name: string): string {
  return `${HEADER(name, "the rustchain_sdk crate")
    .split("\n")
    .map((l) => `//! ${l}`.trimEnd())
    .join("\n")}
#![no_std]

use rustchain_sdk::prelude::*;

const COUNT: Slot = Slot::new(0);
const INCREMENTED: [u8; 32] = event_topic("${INCREMENTED}");

// Each "signature"(args) => value arm is a function of ${name}.abi.json; the build checks the two match.
contract! {
    constructor(args) {
        COUNT.store_u256(args.u256(0));
    }
    "${COUNT}"(_) => COUNT.load_u256(),
    "${INCREMENT}"(args) => {
        let by = args.u256(0);
        require(!by.is_zero(), "${ZERO_INCREMENT_REASON}");
        let count = COUNT.load_u256() + by; // Panic(0x11) on overflow
        COUNT.store_u256(count);
        emit_log(&[INCREMENTED, caller().to_word()], &count.to_be_bytes());
    },
}
`;
}

const SOURCES: Record<string, (name: string) => string> = { c: cSource, cpp: cppSource, rust: rustSource };

function testSource(name: string): string {
  const id = tsIdentifier(name);
  return `// The ${name} contract on an in-process RustChain node: \`rustchain contracts test\` builds the contract, then runs
// this file with vitest. rustchain/testing starts the chain (10 funded dev accounts) and deploys build/<name>.json.
import { startTestChain, type TestChain } from "rustchain/testing";
import { parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ${id}Abi as abi } from "../build/${name}.ts";

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
});

afterAll(async () => {
  await chain?.stop();
});

describe("${name}", () => {
  it("starts at the constructor's value", async () => {
    const address = await chain.deploy("${name}", [41n]);
    expect(await chain.publicClient.readContract({ address, abi, functionName: "count" })).toBe(41n);
  });

  it("increments and emits Incremented(by, newValue)", async () => {
    const address = await chain.deploy("${name}", [41n]);
    const hash = await chain.walletClient.writeContract({ address, abi, functionName: "increment", args: [1n] });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: "Incremented" });
    expect(event?.args).toEqual({ by: chain.accounts[0]!.address, newValue: 42n });
    expect(await chain.publicClient.readContract({ address, abi, functionName: "count" })).toBe(42n);
  });

  it("reverts with its reason on a zero increment", async () => {
    const address = await chain.deploy("${name}", [0n]);
    const call = chain.publicClient.simulateContract({
      address,
      abi,
      functionName: "increment",
      args: [0n],
      account: chain.accounts[0],
    });
    await expect(call).rejects.toThrow("${ZERO_INCREMENT_REASON}");
  });
});
`;
}

const EXTENSIONS: Record<string, string> = { c: "c", cpp: "cpp", rust: "rs" };

function readme(name: string, language: string): string {
  return `# ${name}

A RustChain contract in ${language === "cpp" ? "C++" : language === "c" ? "C" : "Rust"}, made by \`rustchain contracts new\`.

| path | content |
|------|---------|
| \`src/${name}.${EXTENSIONS[language]}\` | the contract (a counter: constructor, \`count()\`, \`increment(uint256)\`, event \`Incremented\`) |
| \`src/${name}.abi.json\` | its Ethereum JSON ABI, written by hand; the build checks it against the source |
| \`test/${name}.test.ts\` | its tests: viem against an in-process chain (\`rustchain/testing\`) |
| \`${PROJECT_FILE}\` | the project: name, language, source directory |
| \`${PROJECT_BUILD_DIR}/\` | the build's output: \`${name}.json\` (\`{ abi, bytecode }\`) and \`${name}.ts\` (the ABI \`as const\`) |

The two commands (\`npm run build\` and \`npm test\` run them too):

\`\`\`sh
rustchain contracts build     # compiles src/ into build/
rustchain contracts test      # builds, then runs ${PROJECT_TESTS} on an in-process chain
\`\`\`

Both take \`--dir <project>\` (default: the current directory). \`rustchain\` is the RustChain repository's command
(\`npm link\` in the repository, or \`npx tsx <repository>/validator/src/cli/main.ts\`); the SDK, the compilers'
settings, vitest and viem all come from that repository, so this directory needs no \`node_modules\`.
`;
}

/**
 * Writes the template project <parent>/<name>/ in `language` (c, cpp or rust). Refuses a bad name, an unknown
 * language and an existing directory that is not empty; returns the project directory.
 */
export async function createProject(parent: string, name: string, language: string): Promise<string> {
  checkProjectName(name);
  languageById(language);
  const source = SOURCES[language];
  if (!source) throw new ContractProjectError({ code: "PROJECT_LANGUAGE_UNKNOWN", language });
  const dir = resolve(parent, name);
  const existing = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    throw e;
  });
  if (existing.length > 0) {
    throw new ContractProjectError(
      { code: "PROJECT_DIR_NOT_EMPTY", path: dir },
      `${dir} exists and is not empty: choose another name or --dir`,
    );
  }
  const files: Record<string, string> = {
    [PROJECT_FILE]: `${JSON.stringify({ name, language, sources: "src" }, null, 2)}\n`,
    [`src/${name}.${EXTENSIONS[language]}`]: source(name),
    [`src/${name}.abi.json`]: `${JSON.stringify(ABI, null, 2)}\n`,
    [`test/${name}.test.ts`]: testSource(name),
    "package.json": `${JSON.stringify(
      {
        name: name.replace(/_/g, "-"),
        private: true,
        type: "module",
        scripts: { build: "rustchain contracts build", test: "rustchain contracts test" },
      },
      null,
      2,
    )}\n`,
    "README.md": readme(name, language),
    ".gitignore": `${PROJECT_BUILD_DIR}/\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(resolve(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}
