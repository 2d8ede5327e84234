// Builds the example circom circuits (contracts/circuits/*.circom) into contracts/build/circuits/ (gitignored):
// circom2 (circom compiled to WebAssembly) for the R1CS and the witness generator, then a DEV-ONLY Groth16 trusted
// setup with snarkjs, entirely offline: powers of tau (bn128, 2^8), one contribution, phase-2 preparation, the
// circuit's zkey, one contribution, and the verifying key (snarkjs JSON and the binary format of groth16_verify).
//
// The contributions use a fixed entropy string, which snarkjs mixes with OS randomness: the keys are not
// reproducible, and a single-party ceremony is NOT a secure setup for anything but tests and devnets.
//
// Idempotent: a circuit is skipped when its artefacts exist and its stamp matches the hash of its source (and of
// this script's setup parameters). Artefacts of a circuit are built in a temporary directory and moved into place,
// stamp last, so an interrupted build is redone.
//
// Usage: tsx scripts/build-circuits.ts [--force]   (--force rebuilds the circuits; the shared ptau file is kept)

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as snarkjs from "snarkjs";
import { type SnarkjsVerificationKey, vkFromSnarkjs } from "../validator/src/runtime/groth16/groth16.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CIRCUITS_SRC_DIR = join(ROOT, "contracts", "circuits");
export const CIRCUITS_BUILD_DIR = join(ROOT, "contracts", "build", "circuits");

/** Powers of tau: 2^PTAU_POWER constraints at most. */
const PTAU_POWER = 8;
const ENTROPY = "rustchain dev-only trusted setup: never use these keys outside tests and devnets";
/** Part of every stamp: changing the setup rebuilds everything. */
const SETUP_VERSION = `groth16-bn128-pot${PTAU_POWER}-v1`;

export const CIRCUITS = ["multiplier"] as const;
export type CircuitName = (typeof CIRCUITS)[number];

export interface CircuitArtefacts {
  name: string;
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

function sourceStamp(name: string): string {
  const src = readFileSync(join(CIRCUITS_SRC_DIR, `${name}.circom`));
  return createHash("sha256").update(SETUP_VERSION).update("\0").update(src).digest("hex");
}

function isUpToDate(name: string): boolean {
  const a = circuitArtefacts(name);
  const stamp = stampPath(name);
  if (![a.r1cs, a.wasm, a.zkey, a.vkJson, a.vkBin, stamp].every((p) => existsSync(p))) return false;
  return readFileSync(stamp, "utf8").trim() === sourceStamp(name);
}

/** Runs circom2's CLI (circom in WebAssembly under WASI) in a child process. */
function compileCircom(source: string, outDir: string): void {
  const cli = createRequire(import.meta.url).resolve("circom2/cli.js");
  execFileSync(process.execPath, [cli, source, "--r1cs", "--wasm", "-o", outDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The phase-2-prepared powers of tau, shared by all circuits; built once. */
async function ensurePtau(): Promise<string> {
  const final = join(CIRCUITS_BUILD_DIR, `pot${PTAU_POWER}_final.ptau`);
  if (existsSync(final)) return final;
  const tmp = mkdtempSync(join(CIRCUITS_BUILD_DIR, ".ptau-"));
  try {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const p0 = join(tmp, "pot_0000.ptau");
    const p1 = join(tmp, "pot_0001.ptau");
    const p2 = join(tmp, "pot_final.ptau");
    await snarkjs.powersOfTau.newAccumulator(curve, PTAU_POWER, p0);
    await snarkjs.powersOfTau.contribute(p0, p1, "rustchain dev contribution", ENTROPY);
    await snarkjs.powersOfTau.preparePhase2(p1, p2);
    renameSync(p2, final);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return final;
}

async function buildCircuit(name: string, ptau: string): Promise<void> {
  const tmp = mkdtempSync(join(CIRCUITS_BUILD_DIR, `.${name}-`));
  try {
    compileCircom(join(CIRCUITS_SRC_DIR, `${name}.circom`), tmp);
    const t = circuitArtefacts(name, tmp);
    renameSync(join(tmp, `${name}_js`, `${name}.wasm`), t.wasm);
    const z0 = join(tmp, `${name}_0000.zkey`);
    await snarkjs.zKey.newZKey(t.r1cs, ptau, z0);
    await snarkjs.zKey.contribute(z0, t.zkey, "rustchain dev contribution", ENTROPY);
    const vk = await snarkjs.zKey.exportVerificationKey(t.zkey);
    writeFileSync(t.vkJson, `${JSON.stringify(vk, null, 2)}\n`);
    writeFileSync(t.vkBin, vkFromSnarkjs(vk as unknown as SnarkjsVerificationKey));
    const final = circuitArtefacts(name);
    for (const key of ["r1cs", "wasm", "zkey", "vkJson", "vkBin"] as const) renameSync(t[key], final[key]);
    writeFileSync(stampPath(name), `${sourceStamp(name)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface BuildResult {
  artefacts: Record<CircuitName, CircuitArtefacts>;
  /** Circuits rebuilt by this call (empty when everything was up to date). */
  built: CircuitName[];
  ms: number;
}

/**
 * Builds every circuit whose artefacts are missing or stale. Leaves no snarkjs worker threads running when it built
 * something (it terminates the shared bn128 curve); callers that keep using snarkjs simply re-create it.
 */
export async function buildCircuits(opts: { force?: boolean } = {}): Promise<BuildResult> {
  const start = performance.now();
  mkdirSync(CIRCUITS_BUILD_DIR, { recursive: true });
  const built: CircuitName[] = [];
  const todo = CIRCUITS.filter((name) => opts.force || !isUpToDate(name));
  if (todo.length > 0) {
    try {
      const ptau = await ensurePtau();
      for (const name of todo) {
        await buildCircuit(name, ptau);
        built.push(name);
      }
    } finally {
      await terminateSnarkjs();
    }
  }
  const artefacts = Object.fromEntries(CIRCUITS.map((n) => [n, circuitArtefacts(n)])) as BuildResult["artefacts"];
  return { artefacts, built, ms: performance.now() - start };
}

/** snarkjs (ffjavascript) keeps a global bn128 curve with worker threads alive; this ends them. */
export async function terminateSnarkjs(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  await g.curve_bn128?.terminate();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { built, artefacts, ms } = await buildCircuits({ force: process.argv.includes("--force") });
  for (const name of CIRCUITS) {
    console.log(`${name}: ${built.includes(name) ? "built" : "up to date"} → ${artefacts[name].zkey}`);
  }
  console.log(`done in ${(ms / 1000).toFixed(2)} s`);
}
