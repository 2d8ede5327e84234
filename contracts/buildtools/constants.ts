// The selectors a contract dispatches and the event topics it emits, as its source declares them (each language
// reads its own syntax), checked against keccak256 of their signatures and against the contract's ABI.
import {
  type Abi,
  type AbiEvent,
  type AbiFunction,
  type Hex,
  toEventSelector,
  toEventSignature,
  toFunctionSelector,
  toFunctionSignature,
} from "viem";
import { ContractBuildError } from "./errors.ts";

export interface SourceConstants {
  selectors: { signature: string; value: Hex }[];
  topics: { signature: string; value: Hex }[];
}

/** Checks the constants against keccak256 and, when an ABI is given, against the ABI. */
export function checkConstants(name: string, constants: SourceConstants, abi?: Abi): void {
  const errors: string[] = [];
  for (const s of constants.selectors) {
    const want = toFunctionSelector(s.signature);
    if (want !== s.value) errors.push(`selector of ${s.signature} is ${want}, not ${s.value}`);
  }
  for (const t of constants.topics) {
    const want = toEventSelector(t.signature);
    if (want !== t.value) errors.push(`topic of ${t.signature} is ${want}, not ${t.value}`);
  }
  if (abi) {
    const sigs = new Set(constants.selectors.map((s) => s.signature));
    const events = new Set(constants.topics.map((t) => t.signature));
    const abiSigs = new Set<string>();
    const abiEvents = new Set<string>();
    for (const item of abi) {
      if (item.type === "function") {
        const sig = toFunctionSignature(item as AbiFunction);
        abiSigs.add(sig);
        if (!sigs.has(sig)) errors.push(`ABI function ${sig} is not dispatched by the source`);
      } else if (item.type === "event") {
        const sig = toEventSignature(item as AbiEvent);
        abiEvents.add(sig);
        if (!events.has(sig)) errors.push(`ABI event ${sig} is not emitted by the source`);
      }
    }
    for (const sig of sigs) if (!abiSigs.has(sig)) errors.push(`function ${sig} of the source is not in the ABI`);
    for (const sig of events) if (!abiEvents.has(sig)) errors.push(`event ${sig} of the source is not in the ABI`);
  }
  if (errors.length > 0) throw new ContractBuildError(`${name}: ${errors.join("; ")}`);
}

/**
 * Source without comments, strings kept with their escapes so a "//" inside one survives. C: block comments do not
 * nest and ' opens a character literal; Rust: block comments nest, and ' opens a character literal only where one
 * follows (otherwise it is a lifetime).
 */
export function stripComments(src: string, language: "c" | "rust"): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    const rustChar = language === "rust" && c === "'" ? /^'(\\.[^']*|[^'\\])'/.exec(src.slice(i, i + 12)) : null;
    if (c === "/" && next === "*") {
      let depth = 1;
      i += 2;
      while (i < src.length && depth > 0) {
        const opens = language === "rust" && src.startsWith("/*", i);
        if (opens || src.startsWith("*/", i)) {
          depth += opens ? 1 : -1;
          i += 2;
        } else {
          i++;
        }
      }
      out += " ";
    } else if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === '"' || (c === "'" && language === "c")) {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (rustChar) {
      out += rustChar[0];
      i += rustChar[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
