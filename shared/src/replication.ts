// The replication feed between the validator core and the edge: the bundle format, its strict parser and the HMAC
// request authentication. Runs unchanged in Cloudflare Workers (WebCrypto, TextEncoder, plain JSON; no node: imports).
//
// Semantics (docs/edge.md, "Replication feed", says the same for operators):
//
// - The core appends bundles to one feed. `seq` is the position in that feed: the first bundle is 1 and every bundle
//   is exactly one more than the previous, across reorgs and finality changes. A receiver applies bundles strictly in
//   seq order; it acknowledges the highest seq it has applied (`ackSeq`), and a bundle whose seq is not ackSeq + 1 is
//   not applied (the sender resumes from ackSeq + 1).
// - Kinds:
//   - "block": one block that joined the canonical chain: `block` is exactly the eth_getBlockByNumber(n, true) object,
//     `receipts` exactly the eth_getBlockReceipts(n) array (logs inside), `stateDiff` the accounts and storage slots
//     the block changed (an account `null` was deleted; `code` only when the account got a code hash it did not have
//     before; a storage value of zero means the slot was cleared), and `finality` the safe (justified) and finalized
//     blocks as the core saw them when it built the bundle. Finality never moves backwards on a receiver: it keeps
//     the highest of what it has and what a bundle says.
//   - "reorg": the canonical chain switched branches. `from` was the head, `to` is the new head, `depth` the number of
//     blocks of the old branch that left the chain, so the common ancestor is block `from.number - depth`. The
//     receiver drops every block above the ancestor and then receives the block bundles of the new branch, oldest
//     first, right after this bundle (none when the new head is the ancestor itself, e.g. a rewind).
//   - "finality": only finality moved (no block arrived that carries the new values).
// - Idempotency: a bundle is identified by its seq and its content hash (SHA-256 of its canonical JSON, see
//   `replicationBundleHash`). Receiving the same seq with the same content again is a no-op (answer the current
//   ackSeq); the same seq with different content is an error the receiver reports and never applies.
// - Bundles with seq 0 are not feed positions: the core's pull endpoint returns them for `fromBlock=` queries (block
//   bundles rebuilt from the database for gap repair by block number). A receiver applies them only to fill missing
//   canonical blocks at or below its head and never moves ackSeq for them.
// - Transport: POST the bundle JSON to the receiver with the two headers below; the receiver answers
//   `{ "ackSeq": n }`. Authentication: `x-rustchain-signature` is hex HMAC-SHA256(key, `${timestamp}.${body}`) where
//   `x-rustchain-timestamp` is the sender's clock in milliseconds since the epoch; requests more than 60 s away from
//   the receiver's clock are refused. A GET has no body: it signs its path and query instead
//   (`${timestamp}./replication/bundles?from=5&count=10`).
import { z } from "zod";
import { RustChainError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import { address, data, fullBlock, hash32, quantity, receipt } from "./rpc/results.ts";

export const REPLICATION_VERSION = 1;
export const REPLICATION_TIMESTAMP_HEADER = "x-rustchain-timestamp";
export const REPLICATION_SIGNATURE_HEADER = "x-rustchain-signature";
export const REPLICATION_AUTH_WINDOW_MS = 60_000;
/** Largest bundle JSON a parser accepts (a full block of calldata and its state diff fits comfortably). */
export const MAX_REPLICATION_BUNDLE_BYTES = 32 * 1024 * 1024;
const MAX_TXS = 20_000;
const MAX_DIFF_ACCOUNTS = 100_000;
const MAX_DIFF_SLOTS = 200_000;

export type ReplicationErrorType =
  | { code: "REPLICATION_MALFORMED"; reason: string }
  | { code: "REPLICATION_TOO_LARGE"; size: number; limit: number };

/** A bundle or replication request that was rejected before it changed anything. */
export class ReplicationError extends RustChainError<ReplicationErrorType> {}

export interface BlockRef {
  number: Hex;
  hash: Hex;
}

export interface ReplicationFinality {
  safe: BlockRef;
  finalized: BlockRef;
}

export interface ReplicatedAccount {
  nonce: Hex;
  balance: Hex;
  codeHash: Hex;
  code?: Hex;
}

export interface ReplicationStateDiff {
  accounts: Record<string, ReplicatedAccount | null>;
  storage: Record<string, Record<string, Hex>>;
}

interface BundleBase {
  version: 1;
  chainId: Hex;
  seq: number;
}

export interface BlockBundle extends BundleBase {
  kind: "block";
  /** The eth_getBlockByNumber(n, true) object, byte for byte what the core's JSON-RPC answers. */
  block: Record<string, unknown> & { number: Hex; hash: Hex; parentHash: Hex; transactions: Record<string, unknown>[] };
  /** The eth_getBlockReceipts(n) array. */
  receipts: Record<string, unknown>[];
  stateDiff: ReplicationStateDiff;
  finality: ReplicationFinality;
}

export interface ReorgBundle extends BundleBase {
  kind: "reorg";
  from: BlockRef;
  to: BlockRef;
  depth: number;
}

export interface FinalityBundle extends BundleBase {
  kind: "finality";
  finality: ReplicationFinality;
}

export type ReplicationBundle = BlockBundle | ReorgBundle | FinalityBundle;

// ---- schema ----

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const blockRef = z.strictObject({ number: quantity, hash: hash32 });
const finality = z.strictObject({ safe: blockRef, finalized: blockRef });

const account = z.strictObject({ nonce: quantity, balance: quantity, codeHash: hash32, code: data.optional() });
const stateDiff = z.strictObject({
  accounts: z.record(address, account.nullable()),
  storage: z.record(address, z.record(hash32, hash32)),
});

const base = { version: z.literal(REPLICATION_VERSION), chainId: quantity, seq };
const bundleSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    ...base,
    kind: z.literal("block"),
    // Exactly what eth_getBlockByNumber(n, true) and eth_getBlockReceipts(n) answer: their result schemas.
    block: fullBlock,
    receipts: z.array(receipt).max(MAX_TXS),
    stateDiff,
    finality,
  }),
  z.strictObject({
    ...base,
    kind: z.literal("reorg"),
    from: blockRef,
    to: blockRef,
    depth: z.number().int().min(1).max(1_000_000),
  }),
  z.strictObject({ ...base, kind: z.literal("finality"), finality }),
]);

const malformed = (reason: string) => new ReplicationError({ code: "REPLICATION_MALFORMED", reason });

/** Cheap structural bounds checked before the schema walks anything (a hostile object must not cost much). */
function checkBounds(value: unknown, depth: number, budget: { nodes: number }): void {
  if (++budget.nodes > 5_000_000) throw malformed("too many JSON values");
  if (depth > 12) throw malformed("nested too deeply");
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const v of value) checkBounds(v, depth + 1, budget);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_DIFF_ACCOUNTS) throw malformed("object has too many keys");
  for (const k of keys) checkBounds((value as Record<string, unknown>)[k], depth + 1, budget);
}

/**
 * Validate a bundle strictly: a JSON string (at most MAX_REPLICATION_BUNDLE_BYTES) or an already parsed value. Returns
 * the input object itself, keys in their original order, so a receiver that stores and re-serialises it answers byte
 * for byte what the core answers. Throws ReplicationError (REPLICATION_MALFORMED or REPLICATION_TOO_LARGE) and nothing
 * else.
 */
export function parseReplicationBundle(json: unknown): ReplicationBundle {
  let value = json;
  if (typeof json === "string") {
    if (json.length > MAX_REPLICATION_BUNDLE_BYTES) {
      throw new ReplicationError({
        code: "REPLICATION_TOO_LARGE",
        size: json.length,
        limit: MAX_REPLICATION_BUNDLE_BYTES,
      });
    }
    try {
      value = JSON.parse(json);
    } catch {
      throw malformed("not JSON");
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw malformed("not an object");
  checkBounds(value, 0, { nodes: 0 });
  const r = bundleSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw malformed(`${issue?.path.join(".").slice(0, 120) ?? ""}: ${issue?.message.slice(0, 120) ?? "invalid"}`);
  }
  const b = r.data;
  if (b.kind === "block") {
    const txs = b.block.transactions;
    if (b.receipts.length !== txs.length) throw malformed("receipts do not match transactions");
    let slots = 0;
    for (const s of Object.values(b.stateDiff.storage)) slots += Object.keys(s).length;
    if (slots > MAX_DIFF_SLOTS) throw malformed("too many storage slots");
    b.receipts.forEach((rc, i) => {
      if (rc.blockHash !== b.block.hash || rc.blockNumber !== b.block.number)
        throw malformed("receipt of another block");
      if (rc.transactionHash !== txs[i]?.hash) throw malformed("receipt order does not match transactions");
    });
    for (const t of txs) {
      if (t.blockHash !== b.block.hash || t.blockNumber !== b.block.number)
        throw malformed("transaction of another block");
    }
  }
  return value as ReplicationBundle;
}

/** JSON with object keys sorted at every level: the form the content hash is taken over. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/** Hex digits of a WebCrypto result, without 0x. */
const toHex = (bytes: ArrayBuffer): string => bytesToHex(new Uint8Array(bytes)).slice(2);

/** A bundle's content hash: hex SHA-256 of its canonical JSON. Same seq + same hash = the same bundle. */
export async function replicationBundleHash(bundle: ReplicationBundle): Promise<Hex> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(bundle)));
  return `0x${toHex(digest)}`;
}

// ---- request authentication ----

function hmacKey(key: Uint8Array, usage: "sign" | "verify") {
  return crypto.subtle.importKey("raw", new Uint8Array(key), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

const signedMessage = (timestampMs: number, body: string) => new TextEncoder().encode(`${timestampMs}.${body}`);

/** Hex HMAC-SHA256 over `${timestampMs}.${body}` (for a GET, `body` is the path and query). */
export async function signReplicationRequest(key: Uint8Array, timestampMs: number, body: string): Promise<string> {
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(key, "sign"), signedMessage(timestampMs, body));
  return toHex(sig);
}

/**
 * Check a request's headers: "malformed" when a header is missing or not of the expected form, "bad_signature" when
 * the HMAC does not match (compared in constant time by WebCrypto), "stale" when an authentic request's timestamp is
 * more than `windowMs` away from `nowMs` (either side), otherwise "ok".
 */
export async function verifyReplicationRequest(
  key: Uint8Array,
  timestampHeader: string | null | undefined,
  signatureHeader: string | null | undefined,
  body: string,
  nowMs: number,
  windowMs = REPLICATION_AUTH_WINDOW_MS,
): Promise<"ok" | "bad_signature" | "stale" | "malformed"> {
  if (typeof timestampHeader !== "string" || !/^\d{1,16}$/.test(timestampHeader)) return "malformed";
  if (typeof signatureHeader !== "string" || !/^[0-9a-fA-F]{64}$/.test(signatureHeader)) return "malformed";
  const timestampMs = Number(timestampHeader);
  const sig = new Uint8Array(32);
  for (let i = 0; i < 32; i++) sig[i] = Number.parseInt(signatureHeader.slice(2 * i, 2 * i + 2), 16);
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(key, "verify"), sig, signedMessage(timestampMs, body));
  if (!valid) return "bad_signature";
  if (Math.abs(nowMs - timestampMs) > windowMs) return "stale";
  return "ok";
}

/** The two authentication headers for a request body (or, for a GET, its path and query). */
export async function replicationAuthHeaders(
  key: Uint8Array,
  body: string,
  nowMs = Date.now(),
): Promise<Record<string, string>> {
  return {
    [REPLICATION_TIMESTAMP_HEADER]: String(nowMs),
    [REPLICATION_SIGNATURE_HEADER]: await signReplicationRequest(key, nowMs, body),
  };
}
