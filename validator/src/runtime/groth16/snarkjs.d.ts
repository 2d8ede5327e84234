// Minimal types for the parts of snarkjs 0.7 used by consensus/ai/circuitBuild.ts and the Groth16 tests.
// snarkjs ships no type declarations. (Ambient: this file has no top-level import or export.)

declare module "snarkjs" {
  type Logger = unknown;
  type Curve = { terminate(): Promise<void> };
  type FileName = string | Uint8Array;

  export const curves: {
    getCurveFromName(name: string, options?: unknown): Promise<Curve>;
  };

  export const powersOfTau: {
    newAccumulator(curve: Curve, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    contribute(oldPtau: string, newPtau: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<unknown>;
  };

  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    exportVerificationKey(zkey: FileName, logger?: Logger): Promise<Record<string, unknown>>;
  };

  export const groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasm: FileName,
      zkey: FileName,
      logger?: Logger,
    ): Promise<{ proof: Record<string, unknown>; publicSignals: string[] }>;
    verify(vk: unknown, publicSignals: unknown, proof: unknown, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: unknown, publicSignals: unknown): Promise<string>;
  };
}
