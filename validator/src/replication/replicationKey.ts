// The replication HMAC key: a hex file shared by the core and the edge. The devnet creates one (mode 0600) in its
// data directory; a production node is given the operator's file.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { RustChainError } from "@rustchain/shared";

export type ReplicationKeyErrorType = { code: "REPLICATION_KEY_INVALID"; path: string; reason: string };
export class ReplicationKeyError extends RustChainError<ReplicationKeyErrorType> {
  constructor(type: ReplicationKeyErrorType) {
    super(type, `replication key ${type.path}: ${type.reason}`);
  }
}

/** Read a hex key (at least 16 bytes, optional 0x); with `create`, write a fresh 32-byte key when the file is absent. */
export async function loadReplicationKey(path: string, create = false): Promise<Uint8Array> {
  if (create && !existsSync(path)) {
    await writeFile(path, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
  }
  let text: string;
  try {
    text = (await readFile(path, "utf8")).trim().replace(/^0x/, "");
  } catch (e) {
    throw new ReplicationKeyError({ code: "REPLICATION_KEY_INVALID", path, reason: (e as Error).message });
  }
  if (!/^([0-9a-fA-F]{2}){16,128}$/.test(text)) {
    throw new ReplicationKeyError({ code: "REPLICATION_KEY_INVALID", path, reason: "expected 16 to 128 hex bytes" });
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}
