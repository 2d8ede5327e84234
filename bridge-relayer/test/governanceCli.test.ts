// `rustchain bridge governance propose|sign|submit` (bridge-relayer/src/cli/governanceCommand.ts): operators' keystores
// (Web3 Secret Storage v3, scrypt) in a temp dir sign a proposal file; the VAA assembled from a quorum verifies
// against the set, and too few, foreign, edited or outsider signatures are refused by code. Then the commands as an
// operator runs them (commander, in-process) against the Solidity gateway on a real `hardhat node`: a set-paused
// proposal signed by 3 of 4 guardians pauses the asset; an outsider cannot sign, 2 signatures cannot submit, and a
// second submission sends nothing.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeGovernance, encodeSetPaused } from "@rustchain/shared/bridge/governance";
import { decodeVaa, type GuardianSet, verifyVaa, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { Command } from "commander";
import { encryptKeystoreJson } from "ethers";
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, pad } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Output } from "../src/cli/cliContext.ts";
import {
  actionFromOptions,
  type ProposeOptions,
  readProposal,
  readSignature,
  registerGovernanceCommand,
  runPropose,
  runSign,
} from "../src/cli/governanceCommand.ts";
import {
  assembleGovernanceVaa,
  createProposal,
  GovernanceFileError,
  type GovernanceFileErrorType,
  parseProposal,
  type SignatureFile,
} from "../src/cli/governanceProposal.ts";
import { compileBridgeContracts } from "../src/contracts/compile.ts";
import { gatewayAbi } from "../src/gatewayAbi.ts";
import { type Guardian, guardianSet } from "./support/guardians.ts";
import { HARDHAT_MNEMONIC, type HardhatNode, startHardhatNode } from "./support/hardhatNode.ts";

const ETH = WORMHOLE_CHAIN.ethereum;
const RTC = WORMHOLE_CHAIN.rustchain;
const PASSWORD = "correct horse battery staple";

let dir: string;
const guardians = guardianSet("governance-cli", 4); // quorum 3
const [outsider] = guardianSet("governance-cli-outsider", 1) as [Guardian];
const set: GuardianSet = { index: 0, keys: guardians.map((g) => hexToBytes(g.address)) };
/** Output of the commands called directly: not printed. */
const quiet = new (class extends Output {
  override progress(): void {}
  override result(): void {}
})(true);

/** Each key in a keystore as `rustchain keys` writes them (scrypt N = 4096 here, for speed). */
const keystores: { keystore: string; passwordFile: string }[] = [];
let outsiderKeystore: { keystore: string; passwordFile: string };

async function writeKeystore(name: string, g: Guardian) {
  const keystore = join(dir, `${name}-bridge-keystore.json`);
  const passwordFile = join(dir, `${name}-password`);
  const json = await encryptKeystoreJson({ address: g.address, privateKey: bytesToHex(g.privateKey) }, PASSWORD, {
    scrypt: { N: 4096 },
  });
  await writeFile(keystore, json, { mode: 0o600 });
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  return { keystore, passwordFile };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rustchain-governance-cli-"));
  for (const g of guardians) keystores.push(await writeKeystore(`guardian${g.index}`, g));
  outsiderKeystore = await writeKeystore("outsider", outsider);
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
const file = (name: string) => join(dir, `${files++}-${name}`);

const pauseRtc: Omit<ProposeOptions, "out"> = {
  action: "set-paused",
  chain: ETH,
  tokenChain: RTC,
  tokenAddress: new Uint8Array(32),
  paused: true,
};

async function propose(o: Omit<ProposeOptions, "out"> = pauseRtc): Promise<string> {
  const out = file("proposal.json");
  await runPropose({ ...o, out }, quiet);
  return out;
}

async function sign(proposal: string, who: number | "outsider", guardianIndex = who === "outsider" ? 1 : who) {
  const key = who === "outsider" ? outsiderKeystore : (keystores[who] as (typeof keystores)[number]);
  const out = file(`sig-${who}.json`);
  return runSign(proposal, { ...key, guardianIndex, deployment: "unused.json", out }, quiet);
}

async function refusal(f: () => unknown): Promise<GovernanceFileErrorType> {
  try {
    await f();
  } catch (e) {
    if (e instanceof GovernanceFileError) return e.type;
    throw e;
  }
  throw new Error("not refused");
}

describe("proposal → signatures → VAA", () => {
  it("a quorum of keystore signatures gives a VAA that verifyVaa accepts, indices ascending", async () => {
    const path = await propose();
    const p = await readProposal(path);
    expect(p.file.body.emitterChain).toBe(RTC);
    expect(p.file.body.emitterAddress).toBe(`0x${"00".repeat(31)}04`);
    expect(p.file.description).toBe(
      `RustChainBridge SetPaused on chain 2 (ethereum): pause the native coin of chain ${RTC} (rustchain)`,
    );
    // signed out of order, one of them twice: the VAA holds each guardian once, ascending
    const sigs = [await sign(path, 3), await sign(path, 0), await sign(path, 2)];
    const { vaa, guardians: used } = assembleGovernanceVaa(p, [...sigs, sigs[0] as SignatureFile], set);
    expect(used).toEqual([0, 2, 3]);
    const decoded = decodeVaa(vaa);
    expect(() => verifyVaa(decoded, set, Math.floor(Date.now() / 1000))).not.toThrow();
    expect(decoded.signatures.map((s) => s.guardianIndex)).toEqual([0, 2, 3]);
    expect(bytesToHex(decoded.digest)).toBe(p.file.digest);
    expect(decodeGovernance(decoded.payload)).toEqual({
      module: "RustChainBridge",
      action: 1,
      chain: ETH,
      tokenChain: RTC,
      tokenAddress: new Uint8Array(32),
      paused: true,
    });
    // the signature file on disk is what runSign returned
    const out = file("sig-1.json");
    const written = await runSign(path, { ...keystores[1]!, guardianIndex: 1, deployment: "unused.json", out }, quiet);
    expect(await readSignature(out)).toEqual(written);
  });

  it("QUORUM: two of four guardians (or one guardian's file given twice) are too few", async () => {
    const path = await propose();
    const p = await readProposal(path);
    const a = await sign(path, 0);
    const b = await sign(path, 1);
    expect(await refusal(() => assembleGovernanceVaa(p, [a, b], set))).toEqual({
      code: "QUORUM",
      signatures: 2,
      needed: 3,
    });
    expect(await refusal(() => assembleGovernanceVaa(p, [a, b, b], set))).toMatchObject({ code: "QUORUM" });
  });

  it("WRONG_PROPOSAL: a signature over another proposal (same action, other sequence) is refused", async () => {
    const path = await propose();
    const other = await propose();
    const p = await readProposal(path);
    const sigs = [await sign(path, 0), await sign(path, 1), await sign(other, 2)];
    expect(await refusal(() => assembleGovernanceVaa(p, sigs, set))).toMatchObject({
      code: "WRONG_PROPOSAL",
      guardianIndex: 2,
    });
    // relabelled with this proposal's digest, it no longer recovers to its signer
    const relabelled = { ...(sigs[2] as SignatureFile), digest: p.file.digest };
    expect(await refusal(() => assembleGovernanceVaa(p, [sigs[0]!, sigs[1]!, relabelled], set))).toMatchObject({
      code: "BAD_SIGNATURE",
      guardianIndex: 2,
    });
  });

  it("NOT_GUARDIAN: a key outside the set, or a guardian claiming another's index, is refused", async () => {
    const path = await propose();
    const p = await readProposal(path);
    const good = [await sign(path, 0), await sign(path, 2)];
    const stranger = await sign(path, "outsider", 1);
    expect(await refusal(() => assembleGovernanceVaa(p, [...good, stranger], set))).toMatchObject({
      code: "NOT_GUARDIAN",
      signer: outsider.address.toLowerCase(),
    });
    const misplaced = await sign(path, 3, 1);
    expect(await refusal(() => assembleGovernanceVaa(p, [...good, misplaced], set))).toMatchObject({
      code: "NOT_GUARDIAN",
      reason: "index 3",
    });
  });

  it("PROPOSAL_INVALID: an edited payload, digest, description or emitter is refused before anything is signed", async () => {
    const path = await propose();
    const original = JSON.parse(await readFile(path, "utf8"));
    const unpause = bytesToHex(
      encodeSetPaused({ chain: ETH, tokenChain: RTC, tokenAddress: new Uint8Array(32), paused: false }),
    );
    const edits: ((f: typeof original) => void)[] = [
      (f) => {
        f.body.payload = unpause; // the digest no longer matches
      },
      (f) => {
        f.description = "RustChainBridge SetPaused on chain 2 (ethereum): unpause everything";
      },
      (f) => {
        f.body.emitterAddress = `0x${"00".repeat(31)}05`;
      },
      (f) => {
        f.body.sequence = "18446744073709551616"; // 2^64
      },
      (f) => {
        f.body.payload = "0x00";
      },
    ];
    for (const edit of edits) {
      const f = structuredClone(original);
      edit(f);
      expect(await refusal(() => parseProposal(f))).toMatchObject({ code: "PROPOSAL_INVALID" });
      const edited = file("edited.json");
      await writeFile(edited, JSON.stringify(f));
      await expect(sign(edited, 0)).rejects.toMatchObject({ type: { code: "PROPOSAL_INVALID" } });
    }
    // a consistent proposal for another action, regenerated with its own digest and description, is fine
    const regenerated = createProposal(hexToBytes(unpause), { timestamp: 1, nonce: 0, sequence: 5n });
    expect(parseProposal(regenerated).action).toMatchObject({ paused: false });
  });

  it("a wrong keystore password is refused (KEYSTORE_WRONG_PASSWORD) and writes no signature", async () => {
    const path = await propose();
    const wrong = file("wrong-password");
    await writeFile(wrong, "hunter2\n");
    const out = file("sig.json");
    await expect(
      runSign(
        path,
        { keystore: keystores[0]!.keystore, passwordFile: wrong, guardianIndex: 0, deployment: "x", out },
        quiet,
      ),
    ).rejects.toMatchObject({ type: { code: "KEYSTORE_WRONG_PASSWORD" } });
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("propose: every action's flags, a missing flag and another action's flag", () => {
    expect(
      actionFromOptions({
        action: "guardian-set-upgrade",
        chain: 0,
        newIndex: 1,
        keys: guardians.map((g) => hexToBytes(g.address)),
        out: "",
      }),
    ).toMatchObject({ module: "Core", action: 2, newIndex: 1 });
    expect(
      actionFromOptions({
        action: "set-governor",
        chain: RTC,
        tokenChain: ETH,
        tokenAddress: new Uint8Array(32),
        dailyLimit: 100_000_000n,
        threshold: 0n,
        delay: 3600,
        out: "",
      }),
    ).toMatchObject({ module: "RustChainBridge", action: 2, dailyLimit: 100_000_000n, delay: 3600 });
    expect(
      actionFromOptions({
        action: "register-chain",
        chain: ETH,
        emitterChain: RTC,
        emitterAddress: hexToBytes(pad("0x5253")),
        out: "",
      }),
    ).toMatchObject({ module: "TokenBridge", action: 1, emitterChain: RTC });
    expect(() => actionFromOptions({ action: "set-paused", chain: ETH, tokenChain: RTC, out: "" })).toThrow(
      "set-paused needs --token-address, --paused",
    );
    expect(() => actionFromOptions({ ...pauseRtc, delay: 5, out: "" })).toThrow("--delay do not apply to set-paused");
  });
});

// ---------------------------------------------------------------------------------------------------------------

interface Run {
  code: number;
  stdout: string;
}

/** `rustchain bridge governance <args>` in this process, as commander parses it. */
async function cli(...args: string[]): Promise<Run> {
  const program = new Command("rustchain bridge").exitOverride();
  registerGovernanceCommand(program);
  let stdout = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(["governance", ...args], { from: "user" });
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout };
}

describe("against the Solidity gateway on a hardhat node", () => {
  let node: HardhatNode;
  let gateway: Address;
  let deployment: string;
  let submitterKey: string;

  beforeAll(async () => {
    const { RustChainBridge } = await compileBridgeContracts();
    node = await startHardhatNode();
    const [deployer] = node.wallets;
    const hash = await deployer!.deployContract({
      abi: RustChainBridge!.abi,
      bytecode: RustChainBridge!.bytecode,
      args: [ETH, guardians.map((g) => g.address), 0n, RTC, pad("0x5253000000000000000000000000000000005253")],
    });
    gateway = getAddress((await node.client.waitForTransactionReceipt({ hash })).contractAddress!);
    deployment = file("deployment.json");
    const offline = "http://127.0.0.1:9"; // the RustChain side is never contacted: the proposal is for Ethereum
    await writeFile(
      deployment,
      JSON.stringify({
        ethereum: { rpcUrl: node.url, chainId: 31337, wormholeChain: ETH, gateway, fromBlock: 0, blockTimeMs: 1000 },
        rustchain: {
          rpcUrl: offline,
          chainId: 5253,
          wormholeChain: RTC,
          gateway: "0x2222222222222222222222222222222222222222",
          fromBlock: 0,
          blockTimeMs: 1000,
          signatureRpcUrls: [offline],
        },
        tokens: [],
      }),
    );
    submitterKey = file("submitter.key");
    const pk = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: 1 }).getHdKey().privateKey!;
    await writeFile(submitterKey, `${bytesToHex(pk)}\n`);
    await chmod(submitterKey, 0o600);
  });

  afterAll(async () => {
    await node?.stop();
  });

  const isPaused = () =>
    node.client.readContract({
      address: gateway,
      abi: gatewayAbi,
      functionName: "isPaused",
      args: [RTC, bytesToHex(new Uint8Array(32))],
    });

  it("a set-paused proposal signed by 3 of 4 guardians pauses the asset; outsiders, 2 signatures and a replay are refused", async () => {
    const proposal = file("pause.json");
    const proposed = await cli(
      "propose",
      "--action",
      "set-paused",
      "--chain",
      "ethereum",
      "--token-chain",
      String(RTC),
      "--token-address",
      "0",
      "--paused",
      "true",
      "--out",
      proposal,
      "--json",
    );
    expect(proposed.code).toBe(0);
    expect(JSON.parse(proposed.stdout)).toMatchObject({ file: proposal, body: { emitterChain: RTC } });

    // each guardian's index comes from the gateway's set
    const sigs: string[] = [];
    for (const i of [2, 0, 3]) {
      const out = file(`sig-${i}.json`);
      const r = await cli("sign", proposal, ...keyFlags(i), "--deployment", deployment, "--out", out, "--json");
      expect(r.code, r.stdout).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ guardianIndex: i, signer: guardians[i]!.address.toLowerCase() });
      sigs.push(out);
    }
    const strangerOut = file("sig-outsider.json");
    const stranger = await cli(
      "sign",
      proposal,
      ...keyFlags("outsider"),
      "--deployment",
      deployment,
      "--out",
      strangerOut,
      "--json",
    );
    expect(stranger.code).toBe(1);
    expect(JSON.parse(stranger.stdout)).toMatchObject({ code: "NOT_GUARDIAN" });
    await expect(readFile(strangerOut)).rejects.toMatchObject({ code: "ENOENT" });

    const key = ["--deployment", deployment, "--private-key-file", submitterKey];
    const tooFew = await cli("submit", proposal, sigs[0]!, sigs[1]!, "--to", "ethereum", ...key, "--json");
    expect(tooFew.code).toBe(1);
    expect(JSON.parse(tooFew.stdout)).toMatchObject({ code: "QUORUM" });
    const wrongChain = await cli("submit", proposal, ...sigs, "--to", "rustchain", ...key, "--json");
    expect(JSON.parse(wrongChain.stdout)).toMatchObject({ code: "REVERTED", bridgeCode: "VAA_WRONG_CHAIN" });
    expect(await isPaused()).toBe(false);

    const printed = await cli("submit", proposal, ...sigs, "--deployment", deployment, "--print-vaa");
    expect(printed.code).toBe(0);
    const vaa = decodeVaa(hexToBytes(printed.stdout.trim() as Hex));
    expect(vaa.signatures.map((s) => s.guardianIndex)).toEqual([0, 2, 3]);
    expect(await isPaused()).toBe(false); // printing sends nothing

    const submitted = await cli("submit", proposal, ...sigs, "--to", "ethereum", ...key, "--json");
    expect(submitted.code, submitted.stdout).toBe(0);
    const result = JSON.parse(submitted.stdout);
    expect(result.chains).toHaveLength(1);
    expect(result.chains[0]).toMatchObject({ chain: "ethereum", guardians: [0, 2, 3], alreadyExecuted: false });
    const receipt = await node.client.getTransactionReceipt({ hash: result.chains[0].tx });
    expect(receipt.status).toBe("success");
    expect(await isPaused()).toBe(true);

    const again = await cli("submit", proposal, ...sigs, ...key, "--json");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).chains[0]).toMatchObject({ tx: null, alreadyExecuted: true });
  });
});

function keyFlags(who: number | "outsider"): string[] {
  const k = who === "outsider" ? outsiderKeystore : keystores[who]!;
  return ["--keystore", k.keystore, "--password-file", k.passwordFile];
}
