// What the build needs from each contract language. contracts/build.ts finds sources, stamps, checks and writes the
// artefacts the same way for every language; a language only says where its contracts are, what its module depends
// on, which selectors and topics its source declares, and how to compile one. A new language is one more file like
// c.ts or rust.ts and one more entry in build.ts's LANGUAGES.
import type { SourceConstants } from "./constants.ts";

export interface ContractLanguage {
  /** Shown in messages and in the build's table ("c", "rust"). */
  readonly id: string;
  /** The extension of a contract's source file (".c", ".rs"); its ABI is <name>.abi.json beside it. */
  readonly extension: string;
  /** Directories whose <name><extension> files are contracts. Names are unique across every language. */
  readonly sourceDirs: readonly string[];
  /**
   * Everything that decides the module: compiler version, flags, the source and what it includes (headers, the
   * SDK). Hashed into the contract's stamp; the module is recompiled only when it changes. Throws
   * ContractBuildError naming the packages to install when the compiler is missing.
   */
  stampInputs(sourcePath: string): Promise<unknown>;
  /** The selectors the source dispatches and the event topics it emits, checked against keccak256 and its ABI. */
  constants(sourcePath: string): Promise<SourceConstants>;
  /**
   * Compiles a contract to a module that passes checkModule (moduleCheck.ts). `scratch` is a fresh path the
   * language may write (and is removed afterwards); errors are ContractBuildError with the compiler's output.
   */
  compile(job: { name: string; sourcePath: string; scratch: string }): Promise<Uint8Array>;
}
