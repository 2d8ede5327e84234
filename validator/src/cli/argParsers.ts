// Option parsers shared by the CLI's commands.
import { hexToBytes } from "@rustchain/shared";
import { InvalidArgumentError } from "commander";

/** A weak-subjectivity checkpoint: <block number>:<0x block hash>. */
export function parseCheckpoint(value: string): { number: bigint; hash: Uint8Array } {
  const m = /^(\d{1,20}):(0x[0-9a-fA-F]{64})$/.exec(value);
  if (!m) throw new InvalidArgumentError("expected <block number>:<0x block hash>");
  return { number: BigInt(m[1] as string), hash: hexToBytes((m[2] as string).toLowerCase()) };
}

/** An http(s) URL. */
export function checkUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected an http(s) URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidArgumentError("expected an http(s) URL");
  return value;
}
