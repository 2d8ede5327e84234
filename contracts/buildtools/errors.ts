/** A contract that does not build: a missing toolchain, a compiler error, or a failed check. */
export class ContractBuildError extends Error {
  override name = "ContractBuildError";
}
