// Builds circom circuits into contracts/build/circuits/ (gitignored): circom2 (circom compiled to WebAssembly) for the
// R1CS and the witness generator, then a DEV-ONLY Groth16 trusted setup with snarkjs, entirely offline: powers of tau
// (bn128, 2^ptauPower, shared by all circuits of that size), one contribution, phase-2 preparation, the circuit's zkey,
// one contribution, and the verifying key (snarkjs JSON and the binary format of groth16_verify).
//
// Two kinds of circuits: the examples in contracts/circuits/*.circom (`CIRCUITS`, built by `buildCircuits`), and
// circuits generated from data, such as the Proof-of-AI circuit of the devnet model (`poaiCircuitSpec`, built by
// `ensureCircuit`). Both go through `ensureCircuit(spec)`.
//
// The contributions use a fixed entropy string, which snarkjs mixes with OS randomness: the keys are not
// reproducible, and a single-party ceremony is NOT a secure setup for anything but tests and devnets.
//
// Idempotent: a circuit is skipped when its artefacts exist and its stamp matches the hash of its source (and of
// its setup parameters). Artefacts of a circuit are built in a temporary directory and moved into place, stamp last,
// so an interrupted build is redone. A lock file per circuit (and per ptau size) serialises concurrent builders, also
// across processes (parallel test files), so artefacts of two builds are never mixed.
//
// The command line is scripts/build-circuits.ts; the node builds the devnet circuit through artefacts.ts.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import { type SnarkjsVerificationKey, vkFromSnarkjs } from "../../runtime/groth16/groth16.ts";
import { devnetAiModel } from "./devnetModel.ts";
import { mlpCircuitSource } from "./mlpCircuit.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const CIRCUITS_SRC_DIR = join(ROOT, "contracts", "circuits");
export const CIRCUITS_BUILD_DIR = join(ROOT, "contracts", "build", "circuits");

/** Powers of tau of the example circuits: 2^PTAU_POWER ≥ constraints + public signals + 1. */
const PTAU_POWER = 8;
const ENTROPY = "rustchain dev-only trusted setup: never use these keys outside tests and devnets";
/** Part of every stamp: changing the setup rebuilds the circuits that use it. */
function setupVersion(ptauPower: number): string {
  return `groth16-bn128-pot${ptauPower}-v1`;
}

/** The example circuits, contracts/circuits/<name>.circom. */
export const CIRCUITS = ["multiplier"] as const;
export type CircuitName = (typeof CIRCUITS)[number];

/** One circuit to build. */
export interface CircuitSpec {
  /** File name stem of the artefacts. */
  name: string;
  /** circom 2 source text (it may not include other files). */
  source: string;
  /** Powers of tau size: 2^ptauPower must be at least constraints + public signals + 1. */
  ptauPower: number;
  /** Extra circom flags, e.g. ["--O2"]; part of the stamp when present. */
  circomFlags?: readonly string[];
}

/** The Proof-of-AI circuit of the devnet model (validator/src/consensus/ai): ~500 constraints with --O2. */
export const POAI_CIRCUIT = "poai";
const POAI_PTAU_POWER = 10;

export function poaiCircuitSpec(): CircuitSpec {
  return {
    name: POAI_CIRCUIT,
    source: mlpCircuitSource(devnetAiModel()),
    ptauPower: POAI_PTAU_POWER,
    circomFlags: ["--O2"],
  };
}

export function exampleCircuitSpec(name: CircuitName): CircuitSpec {
  return { name, source: readFileSync(join(CIRCUITS_SRC_DIR, `${name}.circom`), "utf8"), ptauPower: PTAU_POWER };
}

export interface CircuitArtefacts {
  name: string;
  /** The circom source that was compiled (for generated circuits, the only copy on disk). */
  circom: string;
  r1cs: string;
  /** Witness generator for snarkjs `groth16.fullProve`. */
  wasm: string;
  zkey: string;
  /** snarkjs verification_key.json */
  vkJson: string;
  /** Verifying key in the `groth16_verify` binary format. */
  vkBin: string;
}

export function circuitArtefacts(name: string, dir = CIRCUITS_BUILD_DIR): CircuitArtefacts {
  return {
    name,
    circom: join(dir, `${name}.circom`),
    r1cs: join(dir, `${name}.r1cs`),
    wasm: join(dir, `${name}.wasm`),
    zkey: join(dir, `${name}.zkey`),
    vkJson: join(dir, `${name}.vk.json`),
    vkBin: join(dir, `${name}.vk.bin`),
  };
}

function stampPath(name: string): string {
  return join(CIRCUITS_BUILD_DIR, `${name}.stamp`);
}

function sourceStamp(spec: CircuitSpec): string {
  const h = createHash("sha256").update(setupVersion(spec.ptauPower));
  if (spec.circomFlags?.length) h.update(`\0${spec.circomFlags.join(" ")}`);
  return h.update("\0").update(spec.source).digest("hex");
}

function isUpToDate(spec: CircuitSpec): boolean {
  const a = circuitArtefacts(spec.name);
  const stamp = stampPath(spec.name);
  if (![a.r1cs, a.wasm, a.zkey, a.vkJson, a.vkBin, stamp].every((p) => existsSync(p))) return false;
  return readFileSync(stamp, "utf8").trim() === sourceStamp(spec);
}

/** A lock older than this is from a crashed builder. */
const LOCK_STALE_MS = 10 * 60_000;

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number.parseInt(readFileSync(lock, "utf8"), 10);
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    if (!Number.isSafeInteger(pid) || pid <= 0) return false; // being written
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // ENOENT: released meanwhile (retry); ESRCH: its builder died. EPERM: alive, another user's.
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Runs `fn` holding `<build dir>/.<key>.lock`; waits while another builder (any process) holds it. */
async function withBuildLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(CIRCUITS_BUILD_DIR, `.${key}.lock`);
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (lockIsStale(lock)) rmSync(lock, { force: true });
      else await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Runs circom2's CLI (circom in WebAssembly under WASI) in a child process. */
function compileCircom(source: string, outDir: string, flags: readonly string[] = []): void {
  const cli = createRequire(import.meta.url).resolve("circom2/cli.js");
  execFileSync(process.execPath, [cli, source, "--r1cs", "--wasm", ...flags, "-o", outDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The header of an R1CS file (iden3 r1cs format, section type 1). */
export interface R1csInfo {
  constraints: number;
  wires: number;
  publicOutputs: number;
  publicInputs: number;
  privateInputs: number;
}

export function readR1csInfo(path: string): R1csInfo {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.toString("latin1", 0, 4) !== "r1cs") throw new Error(`${path} is not an r1cs file`);
  const sections = view.getUint32(8, true);
  let off = 12;
  for (let i = 0; i < sections; i++) {
    const type = view.getUint32(off, true);
    const size = Number(view.getBigUint64(off + 4, true));
    off += 12;
    if (type === 1) {
      const p = off + 4 + view.getUint32(off, true); // skip the field size and the prime
      return {
        wires: view.getUint32(p, true),
        publicOutputs: view.getUint32(p + 4, true),
        publicInputs: view.getUint32(p + 8, true),
        privateInputs: view.getUint32(p + 12, true),
        constraints: view.getUint32(p + 24, true), // after the u64 label count
      };
    }
    off += size;
  }
  throw new Error(`${path} has no r1cs header section`);
}

/** The phase-2-prepared powers of tau of size 2^power, shared by all circuits of that size; built once. */
async function ensurePtau(power: number): Promise<string> {
  const final = join(CIRCUITS_BUILD_DIR, `pot${power}_final.ptau`);
  if (existsSync(final)) return final;
  return withBuildLock(`pot${power}`, async () => {
    if (existsSync(final)) return final;
    const tmp = mkdtempSync(join(CIRCUITS_BUILD_DIR, ".ptau-"));
    try {
      const curve = await snarkjs.curves.getCurveFromName("bn128");
      const p0 = join(tmp, "pot_0000.ptau");
      const p1 = join(tmp, "pot_0001.ptau");
      const p2 = join(tmp, "pot_final.ptau");
      await snarkjs.powersOfTau.newAccumulator(curve, power, p0);
      await snarkjs.powersOfTau.contribute(p0, p1, "rustchain dev contribution", ENTROPY);
      await snarkjs.powersOfTau.preparePhase2(p1, p2);
      renameSync(p2, final);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return final;
  });
}

/** Compiles circom source into `<outDir>/<name>.r1cs` and `<outDir>/<name>.wasm` (no setup). */
export function compileCircuit(spec: Pick<CircuitSpec, "name" | "source" | "circomFlags">, outDir: string): R1csInfo {
  const src = circuitArtefacts(spec.name, outDir).circom;
  writeFileSync(src, spec.source);
  compileCircom(src, outDir, spec.circomFlags);
  renameSync(join(outDir, `${spec.name}_js`, `${spec.name}.wasm`), join(outDir, `${spec.name}.wasm`));
  rmSync(join(outDir, `${spec.name}_js`), { recursive: true, force: true });
  return readR1csInfo(join(outDir, `${spec.name}.r1cs`));
}

async function buildCircuit(spec: CircuitSpec, log: (msg: string) => void): Promise<void> {
  const { name } = spec;
  const tmp = mkdtempSync(join(CIRCUITS_BUILD_DIR, `.${name}-`));
  try {
    let t = performance.now();
    const info = compileCircuit(spec, tmp);
    log(`${name}: compiled, ${info.constraints} constraints in ${(performance.now() - t).toFixed(0)} ms`);
    const needed = info.constraints + info.publicOutputs + info.publicInputs + 1;
    if (needed > 2 ** spec.ptauPower) {
      throw new Error(`${name} needs powers of tau ≥ ${needed}, but its ptauPower is ${spec.ptauPower}`);
    }
    t = performance.now();
    const ptau = await ensurePtau(spec.ptauPower);
    log(`${name}: powers of tau 2^${spec.ptauPower} ready in ${(performance.now() - t).toFixed(0)} ms`);
    t = performance.now();
    const a = circuitArtefacts(name, tmp);
    const z0 = join(tmp, `${name}_0000.zkey`);
    await snarkjs.zKey.newZKey(a.r1cs, ptau, z0);
    await snarkjs.zKey.contribute(z0, a.zkey, "rustchain dev contribution", ENTROPY);
    const vk = await snarkjs.zKey.exportVerificationKey(a.zkey);
    writeFileSync(a.vkJson, `${JSON.stringify(vk, null, 2)}\n`);
    writeFileSync(a.vkBin, vkFromSnarkjs(vk as unknown as SnarkjsVerificationKey));
    log(`${name}: zkey and verifying key in ${(performance.now() - t).toFixed(0)} ms`);
    const final = circuitArtefacts(name);
    rmSync(stampPath(name), { force: true }); // readers never pair a valid stamp with half-replaced artefacts
    for (const key of ["circom", "r1cs", "wasm", "zkey", "vkJson", "vkBin"] as const) renameSync(a[key], final[key]);
    writeFileSync(stampPath(name), `${sourceStamp(spec)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface EnsureCircuitResult {
  artefacts: CircuitArtefacts;
  /** Whether this call built the circuit (false: it was up to date). */
  built: boolean;
  info: R1csInfo;
  ms: number;
}

/**
 * Builds one circuit if its artefacts are missing or stale (or `force`). Leaves no snarkjs worker threads running
 * when it built something (it terminates the shared bn128 curve); callers that keep using snarkjs re-create it.
 */
export async function ensureCircuit(
  spec: CircuitSpec,
  opts: { force?: boolean; log?: (msg: string) => void } = {},
): Promise<EnsureCircuitResult> {
  const start = performance.now();
  const log = opts.log ?? (() => {});
  mkdirSync(CIRCUITS_BUILD_DIR, { recursive: true });
  let built = false;
  if (opts.force || !isUpToDate(spec)) {
    await withBuildLock(spec.name, async () => {
      if (!opts.force && isUpToDate(spec)) return; // built by whoever held the lock
      try {
        await buildCircuit(spec, log);
        built = true;
      } finally {
        await terminateSnarkjs();
      }
    });
  }
  const artefacts = circuitArtefacts(spec.name);
  return { artefacts, built, info: readR1csInfo(artefacts.r1cs), ms: performance.now() - start };
}

export interface BuildResult {
  artefacts: Record<CircuitName, CircuitArtefacts>;
  /** Circuits rebuilt by this call (empty when everything was up to date). */
  built: CircuitName[];
  ms: number;
}

/**
 * Builds every example circuit whose artefacts are missing or stale. Leaves no snarkjs worker threads running when it
 * built something (it terminates the shared bn128 curve); callers that keep using snarkjs simply re-create it.
 */
export async function buildCircuits(opts: { force?: boolean; log?: (msg: string) => void } = {}): Promise<BuildResult> {
  const start = performance.now();
  const built: CircuitName[] = [];
  for (const name of CIRCUITS) {
    if ((await ensureCircuit(exampleCircuitSpec(name), opts)).built) built.push(name);
  }
  const artefacts = Object.fromEntries(CIRCUITS.map((n) => [n, circuitArtefacts(n)])) as BuildResult["artefacts"];
  return { artefacts, built, ms: performance.now() - start };
}

/** snarkjs (ffjavascript) keeps a global bn128 curve with worker threads alive; this ends them. */
export async function terminateSnarkjs(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  await g.curve_bn128?.terminate();
}
