// Finding a language's compiler: probed once per process (a failed probe is retried on the next build), and a
// missing program is a ContractBuildError that names what to install.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ContractBuildError } from "./errors.ts";

export const run = promisify(execFile);

/** `probe` run at most once at a time and remembered once it succeeds. */
export function memoizedProbe<T>(probe: () => Promise<T>): () => Promise<T> {
  let found: Promise<T> | undefined;
  return () => {
    if (!found) {
      found = probe();
      found.catch(() => {
        found = undefined;
      });
    }
    return found;
  };
}

/** The output of `program args` (its version, typically), or a ContractBuildError with `installHint`. */
export async function programOutput(program: string, args: string[], installHint: string): Promise<string> {
  try {
    return (await run(program, args)).stdout;
  } catch (e) {
    throw new ContractBuildError(
      `${program} not found or not working (${(e as Error).message.split("\n")[0]}): ${installHint}`,
    );
  }
}
