// `rustchain bridge governance propose|sign|submit` (docs/bridge.md, "Governance"): the committee operators' side of
// governance, as Wormhole guardians inject a governance message. One operator proposes (a file holding the exact VAA
// body and its digest); each operator signs that digest with their validator's bridge key on their own machine; anyone
// assembles a quorum of signatures into the VAA and sends submitGovernance(vaa) to one or both gateways. The rules
// (what a valid proposal, signature and VAA are) live in governanceProposal.ts; this file reads flags and files, talks
// to the gateways and prints.
import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { describeError, RustChainError } from "@rustchain/shared";
import { encodeGovernance, type GovernanceAction } from "@rustchain/shared/bridge/governance";
import { type GuardianSet, WORMHOLE_CHAIN } from "@rustchain/shared/bridge/vaa";
import { bytesToHex, hexToBytes } from "@rustchain/shared/hex";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Hex } from "viem";
import { type ChainName, chainOf } from "../deployment.ts";
import { gatewayAbi } from "../gatewayAbi.ts";
import { loadKeystoreAccount } from "../relayerKey.ts";
import { BridgeCliError, cliError } from "./bridgeCliError.ts";
import { addCommonOptions, CliContext, type CommonOptions, DEFAULT_DEPLOYMENT, Output } from "./cliContext.ts";
import { guardianSetOf, sendToGateway } from "./gatewayCalls.ts";
import {
  assembleGovernanceVaa,
  chainLabel,
  createProposal,
  GovernanceFileError,
  guardianIndexOf,
  type Proposal,
  type ProposalFile,
  parseProposal,
  parseSignature,
  type SignatureFile,
  signatureFile,
} from "./governanceProposal.ts";

export const GOVERNANCE_ACTIONS = ["set-paused", "set-governor", "register-chain", "guardian-set-upgrade"] as const;
export type GovernanceActionName = (typeof GOVERNANCE_ACTIONS)[number];

const MAX_PROPOSAL_BYTES = 256 * 1024;
const MAX_SIGNATURE_BYTES = 4 * 1024;
const MAX_U256 = (1n << 256n) - 1n;

// ---------------------------------------------------------------------------------------------------------------
// Flag parsers (commander's InvalidArgumentError: "error: option '--x <n>' argument 'y' is invalid. …")

function integer(value: string, max: number, what: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || Number(value) > max) throw new InvalidArgumentError(`expected ${what}`);
  return Number(value);
}

const u32 = (v: string) => integer(v, 0xffffffff, "an integer 0..4294967295");

/** A Wormhole chain id (0..65535) or one of the names of docs/bridge.md, "Chain ids". */
export function wormholeChainArg(value: string): number {
  const named = (WORMHOLE_CHAIN as Record<string, number>)[value.toLowerCase()];
  if (named !== undefined) return named;
  return integer(value, 0xffff, `a Wormhole chain id 0..65535 or one of ${Object.keys(WORMHOLE_CHAIN).join(", ")}`);
}

function bigintArg(value: string, max: bigint, what: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || BigInt(value) > max) throw new InvalidArgumentError(`expected ${what}`);
  return BigInt(value);
}

const u64 = (v: string) => bigintArg(v, (1n << 64n) - 1n, "an integer 0..2^64-1");
const normalisedAmount = (v: string) =>
  bigintArg(v, MAX_U256, "a whole number of normalised units (8 decimals: 1 ETH = 100000000), 0 for none");

/** "0" (the native coin), a 20-byte address (left-padded) or a 32-byte Wormhole address. */
export function universalAddressArg(value: string): Uint8Array {
  if (value === "0") return new Uint8Array(32);
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return hexToBytes(value.toLowerCase());
  if (/^0x[0-9a-fA-F]{40}$/.test(value)) {
    const out = new Uint8Array(32);
    out.set(hexToBytes(value.toLowerCase()), 12);
    return out;
  }
  throw new InvalidArgumentError("expected 0x and 20 or 32 bytes of hex (or 0 for the native coin)");
}

function booleanArg(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

export function guardianKeysArg(value: string): Uint8Array[] {
  const keys = value.split(",").map((k) => k.trim());
  if (keys.length === 0 || keys.length > 255 || keys.some((k) => !/^0x[0-9a-fA-F]{40}$/.test(k)))
    throw new InvalidArgumentError("expected 1 to 255 comma-separated 20-byte 0x addresses");
  const lower = keys.map((k) => k.toLowerCase());
  if (new Set(lower).size !== lower.length) throw new InvalidArgumentError("a key appears twice");
  return lower.map((k) => hexToBytes(k));
}

// ---------------------------------------------------------------------------------------------------------------
// propose

export interface ProposeOptions {
  action: GovernanceActionName;
  /** The chain the action is for: a Wormhole chain id, 0 for every chain. */
  chain: number;
  tokenChain?: number;
  tokenAddress?: Uint8Array;
  paused?: boolean;
  dailyLimit?: bigint;
  threshold?: bigint;
  delay?: number;
  emitterChain?: number;
  emitterAddress?: Uint8Array;
  newIndex?: number;
  keys?: Uint8Array[];
  /** Default: a random u64, so that two proposals never share a digest. */
  sequence?: bigint;
  nonce?: number;
  /** Default: now. */
  timestamp?: number;
  out: string;
  json?: boolean;
}

const ACTION_FLAGS: Record<GovernanceActionName, (keyof ProposeOptions)[]> = {
  "set-paused": ["tokenChain", "tokenAddress", "paused"],
  "set-governor": ["tokenChain", "tokenAddress", "dailyLimit", "threshold", "delay"],
  "register-chain": ["emitterChain", "emitterAddress"],
  "guardian-set-upgrade": ["newIndex", "keys"],
};
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The governance action the flags describe; a missing flag, or one of another action, is refused. */
export function actionFromOptions(o: ProposeOptions): GovernanceAction {
  const wanted = ACTION_FLAGS[o.action];
  if (!wanted) throw cliError({ code: "BAD_ARGUMENT", reason: "action" }, `unknown --action ${o.action}`);
  const missing = wanted.filter((k) => o[k] === undefined);
  if (missing.length > 0)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "missing flag" },
      `${o.action} needs ${missing.map(flagName).join(", ")}`,
    );
  const others = Object.values(ACTION_FLAGS)
    .flat()
    .filter((k) => !wanted.includes(k) && o[k] !== undefined);
  if (others.length > 0)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "flag of another action" },
      `${[...new Set(others)].map(flagName).join(", ")} do not apply to ${o.action}`,
    );
  const chain = o.chain;
  switch (o.action) {
    case "set-paused":
      return {
        module: "RustChainBridge",
        action: 1,
        chain,
        tokenChain: o.tokenChain as number,
        tokenAddress: o.tokenAddress as Uint8Array,
        paused: o.paused as boolean,
      };
    case "set-governor":
      return {
        module: "RustChainBridge",
        action: 2,
        chain,
        tokenChain: o.tokenChain as number,
        tokenAddress: o.tokenAddress as Uint8Array,
        dailyLimit: o.dailyLimit as bigint,
        threshold: o.threshold as bigint,
        delay: o.delay as number,
      };
    case "register-chain":
      return {
        module: "TokenBridge",
        action: 1,
        chain,
        emitterChain: o.emitterChain as number,
        emitterAddress: o.emitterAddress as Uint8Array,
      };
    case "guardian-set-upgrade":
      return { module: "Core", action: 2, chain, newIndex: o.newIndex as number, keys: o.keys as Uint8Array[] };
  }
}

export function randomSequence(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

export async function runPropose(o: ProposeOptions, out: Output): Promise<ProposalFile> {
  const action = actionFromOptions(o);
  const proposal = createProposal(encodeGovernance(action), {
    timestamp: o.timestamp ?? Math.floor(Date.now() / 1000),
    nonce: o.nonce ?? 0,
    sequence: o.sequence ?? randomSequence(),
  });
  // never over an existing file: a new proposal has a new digest, and signatures of the old one would be lost
  await writeJson(o.out, proposal, "wx");
  out.result(
    [
      `proposal written to ${o.out}`,
      `  ${proposal.description}`,
      `  digest   ${proposal.digest}`,
      `  sequence ${proposal.body.sequence}, nonce ${proposal.body.nonce}, timestamp ${proposal.body.timestamp}`,
      `each committee operator signs it with: rustchain bridge governance sign ${o.out} --keystore <bridge-keystore.json> --password-file <file> --out sig-<index>.json`,
    ],
    { file: o.out, ...proposal },
  );
  return proposal;
}

// ---------------------------------------------------------------------------------------------------------------
// sign

export interface SignOptions {
  keystore: string;
  passwordFile: string;
  /** Skips the look-up in the deployment's guardian sets (offline signing); submit checks it. */
  guardianIndex?: number;
  deployment: string;
  out: string;
  json?: boolean;
}

/** The gateways a proposal can run on in this deployment: both for chain 0, else the one with that chain id. */
function gatewaysFor(ctx: CliContext, chain: number): ChainName[] {
  if (chain === 0) return ["ethereum", "rustchain"];
  const name = chainOf(ctx.deployment, chain);
  if (!name)
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "chain" },
      `the proposal is for ${chainLabel(chain)}, which has no gateway in ${ctx.options.deployment}`,
    );
  return [name];
}

async function currentSet(ctx: CliContext, chain: ChainName): Promise<GuardianSet> {
  const set = await guardianSetOf(ctx, chain).catch((e: unknown) => {
    throw cliError(
      { code: "RPC", reason: describeError(e) },
      `reading the guardian set of the ${chain} gateway ${ctx.gateway(chain)}: ${describeError(e)}`,
    );
  });
  return { index: set.index, keys: set.keys.map((k) => hexToBytes(k.toLowerCase())) };
}

export function printProposal(out: Output, path: string, p: Proposal): void {
  const b = p.file.body;
  out.progress(
    [
      `proposal ${path}:`,
      `  ${p.file.description}`,
      `  digest    ${p.file.digest}`,
      `  emitter   ${b.emitterChain}/${b.emitterAddress} (governance)`,
      `  sequence  ${b.sequence}, nonce ${b.nonce}, timestamp ${b.timestamp} (${new Date(b.timestamp * 1000).toISOString()})`,
      `  payload   ${b.payload}`,
    ].join("\n"),
  );
}

export async function runSign(proposalPath: string, o: SignOptions, out: Output): Promise<SignatureFile> {
  const p = await readProposal(proposalPath);
  printProposal(out, proposalPath, p);
  const account = await loadKeystoreAccount(o.keystore, o.passwordFile);
  if (account.type !== "local" || !account.sign)
    throw cliError({ code: "BAD_ARGUMENT", reason: "keystore" }, `${o.keystore}: not a signing key`);
  const signer = hexToBytes(account.address.toLowerCase());

  let guardianIndex = o.guardianIndex;
  if (guardianIndex === undefined) {
    const ctx = await CliContext.open({ deployment: o.deployment });
    const found: string[] = [];
    for (const chain of gatewaysFor(ctx, p.action.chain)) {
      const set = await currentSet(ctx, chain);
      const at = guardianIndexOf(set, signer);
      if (at === undefined)
        throw new GovernanceFileError(
          { code: "NOT_GUARDIAN", signer: account.address, reason: `not in the ${chain} gateway's set ${set.index}` },
          `${account.address} is not in guardian set ${set.index} of the ${chain} gateway: refusing to sign`,
        );
      if (guardianIndex !== undefined && guardianIndex !== at)
        throw cliError(
          { code: "BAD_ARGUMENT", reason: "guardian index" },
          `${account.address} is guardian ${found.join(", ")} but guardian ${at} on ${chain}; give --guardian-index`,
        );
      guardianIndex = at;
      found.push(`${at} on ${chain} (set ${set.index})`);
    }
    out.progress(`signing as ${account.address}, guardian ${found.join(", ")}`);
  } else {
    out.progress(`signing as ${account.address}, guardian ${guardianIndex} (given, not checked against a gateway)`);
  }

  const signature = hexToBytes(await account.sign({ hash: bytesToHex(p.digest) }));
  const file = signatureFile(p, guardianIndex as number, signer, signature);
  await writeJson(o.out, file);
  out.result([`signature of guardian ${file.guardianIndex} (${file.signer}) over ${file.digest} written to ${o.out}`], {
    file: o.out,
    ...file,
  });
  return file;
}

// ---------------------------------------------------------------------------------------------------------------
// submit

export type SubmitTarget = ChainName | "both";

export interface SubmitOptions extends CommonOptions {
  /** Default: the proposal's chain (both gateways for chain 0). */
  to?: SubmitTarget;
  /** Print the VAA(s) instead of sending. */
  printVaa?: boolean;
}

export interface SubmitResult {
  digest: Hex;
  description: string;
  chains: {
    chain: ChainName;
    guardianSetIndex: number;
    guardians: number[];
    vaa: Hex;
    /** null: printed only (--print-vaa), or executed there already. */
    tx: Hex | null;
    alreadyExecuted: boolean;
  }[];
}

/** --print-vaa: the VAA alone on stdout (for a pipe or a file), the progress on stderr. */
class VaaOutput extends Output {
  constructor() {
    super(false);
  }

  override progress(line: string): void {
    process.stderr.write(`${line}\n`);
  }
}

function targets(ctx: CliContext, p: Proposal, to: SubmitTarget | undefined): ChainName[] {
  const chains: ChainName[] =
    to === undefined ? gatewaysFor(ctx, p.action.chain) : to === "both" ? ["ethereum", "rustchain"] : [to];
  for (const chain of chains) {
    const id = ctx.deployment[chain].wormholeChain;
    if (p.action.chain !== 0 && p.action.chain !== id)
      throw cliError(
        { code: "REVERTED", bridgeCode: "VAA_WRONG_CHAIN", reason: "wrong chain" },
        `VAA_WRONG_CHAIN: the proposal is for ${chainLabel(p.action.chain)}, the ${chain} gateway is ${chainLabel(id)}`,
      );
  }
  return chains;
}

const SUBMIT_HINTS: Partial<Record<string, string>> = {
  VAA_CONSUMED: "this proposal was executed on that gateway already",
  VAA_GUARDIAN_SET_EXPIRED:
    "governance needs the gateway's current guardian set, which changed: sign a new proposal with the new set",
  VAA_WRONG_CHAIN: "the proposal is for another chain",
  GOVERNANCE: "the gateway refused the action (a guardian set upgrade must name the current set index + 1)",
};

export async function runSubmit(
  ctx: CliContext,
  proposalPath: string,
  signaturePaths: string[],
  o: SubmitOptions,
): Promise<SubmitResult> {
  const out = o.printVaa && !o.json ? new VaaOutput() : ctx.out;
  const p = await readProposal(proposalPath);
  const signatures = await Promise.all(signaturePaths.map(readSignature));
  const chains = targets(ctx, p, o.to);
  out.progress(`${p.file.description}\n  digest ${p.file.digest}`);

  // every signature and the quorum are checked on every target before anything is sent
  const built = [];
  for (const chain of chains) {
    const set = await currentSet(ctx, chain);
    const { vaa, guardians, quorum } = assembleGovernanceVaa(p, signatures, set);
    out.progress(
      `${chain}: guardians ${guardians.join(", ")} of set ${set.index} signed (${guardians.length}/${set.keys.length}, quorum ${quorum})`,
    );
    built.push({ chain, guardianSetIndex: set.index, guardians, vaa: bytesToHex(vaa) });
  }
  const result: SubmitResult = { digest: p.file.digest as Hex, description: p.file.description, chains: [] };

  if (o.printVaa) {
    result.chains = built.map((b) => ({ ...b, tx: null, alreadyExecuted: false }));
    const distinct = new Set(built.map((b) => b.vaa));
    out.result(distinct.size === 1 ? [...distinct] : built.map((b) => `${b.chain}: ${b.vaa}`), result);
    return result;
  }

  const account = await ctx.account();
  const lines: string[] = [];
  for (const b of built) {
    const executed = await ctx.clients[b.chain].readContract({
      address: ctx.gateway(b.chain),
      abi: gatewayAbi,
      functionName: "isCompleted",
      args: [p.file.digest as Hex],
    });
    if (executed) {
      lines.push(`${b.chain}: executed already (digest ${p.file.digest} is consumed); nothing sent`);
      result.chains.push({ ...b, tx: null, alreadyExecuted: true });
      continue;
    }
    const call = { functionName: "submitGovernance", args: [b.vaa] } as unknown as Parameters<typeof sendToGateway>[3]; // sendToGateway's call type does not list submitGovernance; the ABI (gatewayAbi.ts) has it
    const receipt = await sendToGateway(ctx, b.chain, ctx.wallet(b.chain, account), call, SUBMIT_HINTS);
    lines.push(`${b.chain}: executed in tx ${receipt.transactionHash} (block ${receipt.blockNumber})`);
    result.chains.push({ ...b, tx: receipt.transactionHash, alreadyExecuted: false });
  }
  ctx.out.result(lines, result);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

async function readJson(path: string, limit: number, what: string): Promise<unknown> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw cliError(
      { code: "NOT_FOUND", reason: what },
      `${what} ${path}: ${e.code === "ENOENT" ? "no such file" : (e.code ?? e.message)}`,
    );
  });
  if (!st.isFile() || st.size > limit)
    throw cliError({ code: "BAD_ARGUMENT", reason: what }, `${what} ${path}: not a file of at most ${limit} bytes`);
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw cliError({ code: "BAD_ARGUMENT", reason: what }, `${what} ${path}: not JSON (${(e as Error).message})`);
  }
}

/** A typed error whose message names the file it came from. */
function inFile<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof GovernanceFileError) throw new GovernanceFileError(e.type, `${path}: ${describeError(e)}`);
    throw e;
  }
}

export async function readProposal(path: string): Promise<Proposal> {
  const json = await readJson(path, MAX_PROPOSAL_BYTES, "proposal");
  return inFile(path, () => parseProposal(json));
}

export async function readSignature(path: string): Promise<SignatureFile> {
  const json = await readJson(path, MAX_SIGNATURE_BYTES, "signature file");
  return inFile(path, () => parseSignature(json));
}

async function writeJson(path: string, value: unknown, flag: "w" | "wx" = "w"): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, { flag }).catch((e: NodeJS.ErrnoException) => {
    throw cliError(
      { code: "BAD_ARGUMENT", reason: "out" },
      e.code === "EEXIST" ? `${path} exists: choose another --out` : `writing ${path}: ${e.code ?? e.message}`,
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

/** Runs a subcommand; a refusal is printed as `error: …` (and, with --json, as a JSON document) and exits 1. */
function run<A extends unknown[], O extends { json?: boolean }>(
  work: (opts: O, out: Output, ...args: A) => Promise<unknown>,
): (...all: [...A, O, Command]) => Promise<void> {
  return async (...all) => {
    const opts = (all.at(-1) as Command).opts() as O;
    const out = new Output(Boolean(opts.json));
    try {
      await work(opts, out, ...(all.slice(0, -2) as A));
    } catch (e) {
      const message = describeError(e);
      if (opts.json) {
        const code = e instanceof RustChainError ? (e.type as { code: string }).code : null;
        const bridgeCode =
          e instanceof BridgeCliError && e.type.code === "REVERTED" ? (e.type.bridgeCode ?? null) : null;
        process.stdout.write(`${JSON.stringify({ error: message, code, bridgeCode })}\n`);
      }
      process.stderr.write(`error: ${message}\n`);
      process.exitCode = 1;
    }
  };
}

export function registerGovernanceCommand(bridge: Command): void {
  const governance = bridge
    .command("governance")
    .description(
      'committee operators: propose a governance action, sign it with your validator\'s bridge key, submit the VAA (docs/bridge.md, "Governance")',
    );

  governance
    .command("propose")
    .description("write a governance proposal: the exact VAA body every operator signs, with its digest")
    .addOption(new Option("--action <action>", "what to do").choices(GOVERNANCE_ACTIONS).makeOptionMandatory())
    .requiredOption(
      "--chain <id>",
      "the chain it applies to: a Wormhole chain id (2 ethereum, 21075 rustchain) or 0 for every chain",
      wormholeChainArg,
    )
    .option("--token-chain <id>", "set-paused, set-governor: the token's home chain (Wormhole id)", wormholeChainArg)
    .option(
      "--token-address <address>",
      "set-paused, set-governor: the token's home address, 0x and 20 or 32 bytes (0: the chain's native coin)",
      universalAddressArg,
    )
    .option("--paused <true|false>", "set-paused: pause (true) or unpause (false) the asset", booleanArg)
    .option(
      "--daily-limit <units>",
      "set-governor: daily inflow limit in normalised 8-decimal units (1 ETH = 100000000; 0 = none)",
      normalisedAmount,
    )
    .option(
      "--threshold <units>",
      "set-governor: transfers of at least this many normalised 8-decimal units are delayed (0 = none)",
      normalisedAmount,
    )
    .option("--delay <seconds>", "set-governor: how long a large transfer is queued", u32)
    .option("--emitter-chain <id>", "register-chain: the remote gateway's chain (Wormhole id)", wormholeChainArg)
    .option(
      "--emitter-address <address>",
      "register-chain: the remote gateway's address, 0x and 20 or 32 bytes",
      universalAddressArg,
    )
    .option("--new-index <n>", "guardian-set-upgrade: the new set's index (the current one + 1)", u32)
    .option("--keys <addresses>", "guardian-set-upgrade: the new set's 0x addresses, comma-separated", guardianKeysArg)
    .option("--sequence <n>", "the VAA body's sequence (default: random, so two proposals never share a digest)", u64)
    .option("--nonce <n>", "the VAA body's nonce", u32, 0)
    .requiredOption("--out <file>", "where to write the proposal (never over an existing file)")
    .option("--json", "print one JSON document")
    .action(run((opts: ProposeOptions, out) => runPropose(opts, out)));

  governance
    .command("sign")
    .description("sign a proposal with your validator's bridge key (prints what it does first)")
    .argument("<proposal>", "the proposal file")
    .requiredOption("--keystore <file>", "your validator's bridge key: bridge-keystore.json")
    .requiredOption("--password-file <file>", "the validator's password file")
    .option(
      "--guardian-index <i>",
      "your index in the guardian set (default: looked up in the deployment's gateways; giving it signs offline)",
      (v) => integer(v, 254, "an index 0..254"),
    )
    .option("--deployment <file>", "bridge deployment file (to look up your guardian index)", DEFAULT_DEPLOYMENT)
    .requiredOption("--out <file>", "where to write the signature (e.g. sig-<index>.json)")
    .option("--json", "print one JSON document (the proposal goes to stderr)")
    .action(run((opts: SignOptions, out, proposal: string) => runSign(proposal, opts, out)));

  addCommonOptions(
    governance
      .command("submit")
      .description(
        "check the signatures, build the VAA from a quorum of them and send submitGovernance(vaa) to the gateway(s)",
      )
      .argument("<proposal>", "the proposal file")
      .argument("<signatures...>", "the operators' signature files")
      .addOption(
        new Option("--to <chain>", "which gateway(s) (default: the proposal's chain; both for chain 0)").choices([
          "ethereum",
          "rustchain",
          "both",
        ]),
      )
      .option("--print-vaa", "print the VAA hex instead of sending it (no account needed)"),
  ).action(
    run(async (opts: SubmitOptions, _out, proposal: string, signatures: string[]) =>
      runSubmit(await CliContext.open(opts), proposal, signatures, opts),
    ),
  );
}
