// Snapshot chunks (docs/sync.md, "Format"): the RLP payloads inside the zstd-compressed objects, their encoders (for
// the exporter) and their verifiers. A chunk is checked on its own, the moment it arrives:
//
//   certificates  [0, [certificate…]]                          chained by the certificate verifier, in order
//   headers       [1, [header…]]                               consecutive numbers, each the parent of the next
//   accounts      [2, firstKey, [[address, account]…], proof]  a range of the account trie (keys BLAKE3(address)),
//                                                              proven against the state root with its edge proofs
//   storage       [3, accountProof, [[address, firstKey, [[slot, value]…], proof, whole]…]]
//                                                              ranges of storage tries; each account (and so its
//                                                              storage root) proven against the state root by the
//                                                              chunk's shared account proof nodes
//   code          [4, [code…]]                                 content-addressed: stored under BLAKE3(code)
//
// The preimages (addresses, slots) travel with the values because the flat view is keyed by them; the verifier hashes
// them itself, so a wrong preimage is a wrong key and fails the proof. What a chunk proves is returned as a
// `ChunkSummary`, which the coverage check (coverage.ts) uses at the end to show the ranges tile the whole state.
import { type Account, decodeAccount, decodeStorageWord } from "../account.ts";
import { BLAKE3_EMPTY, blake3 } from "../hash.ts";
import { type BlockHeader, decodeHeaderFields, encodeHeader, headerHash } from "../header.ts";
import { bigintToBytes32, bytesToHex, compareBytes, equalBytes } from "../hex.ts";
import { type RlpDecoded, type RlpInput, rlpBytes, rlpDecode, rlpEncode, rlpList, rlpUint } from "../rlp.ts";
import { emptyTrieRoot, verifyTrieProof } from "../trie.ts";
import { verifyRangeProof } from "../trieRange.ts";
import { SnapshotError } from "./errors.ts";
import { CHUNK_KINDS, type ChunkEntry, type ChunkKind } from "./manifest.ts";

/** Decompressed chunk size limit; the exporter's byte budget is far below it. */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
const MAX_CERTIFICATE_BYTES = 1024 * 1024;
const MAX_CODE_BYTES = 1024 * 1024;
const ZERO_KEY = new Uint8Array(32);
const EMPTY_ROOT = emptyTrieRoot(blake3);

export interface AccountItem {
  address: Uint8Array;
  /** The account as the trie stores it (RLP). */
  encoded: Uint8Array;
}
export interface SlotItem {
  slot: Uint8Array;
  /** The value as the storage trie stores it (RLP of the word). */
  encoded: Uint8Array;
}
export interface StorageRange {
  address: Uint8Array;
  firstKey: Uint8Array;
  slots: SlotItem[];
  /** Edge proofs of the range in the account's storage trie; empty when `whole`. */
  proof: Uint8Array[];
  /** The range is the account's whole storage trie (no proof needed). */
  whole: boolean;
}

export function encodeCertificatesChunk(certificates: Uint8Array[]): Uint8Array {
  return rlpEncode([0, certificates]);
}
export function encodeHeadersChunk(headers: BlockHeader[]): Uint8Array {
  return rlpEncode([1, headers.map((h) => encodeHeader(h))]);
}
export function encodeAccountsChunk(firstKey: Uint8Array, accounts: AccountItem[], proof: Uint8Array[]): Uint8Array {
  return rlpEncode([2, firstKey, accounts.map((a) => [a.address, a.encoded]), proof]);
}
export function encodeStorageChunk(accountProof: Uint8Array[], ranges: StorageRange[]): Uint8Array {
  const items: RlpInput[] = ranges.map((r) => [
    r.address,
    r.firstKey,
    r.slots.map((s) => [s.slot, s.encoded]),
    r.proof,
    r.whole ? 1 : 0,
  ]);
  return rlpEncode([3, accountProof, items]);
}
export function encodeCodeChunk(codes: Uint8Array[]): Uint8Array {
  return rlpEncode([4, codes]);
}

/** What a verified chunk proved, in a form that can be stored (for resuming) and checked for coverage. */
export type ChunkSummary =
  | { kind: "certificates" | "headers" }
  | {
      kind: "accounts";
      first: Uint8Array;
      last: Uint8Array;
      more: boolean;
      /** Hashed key and storage root of every account with storage. */
      storageRoots: [Uint8Array, Uint8Array][];
      codeHashes: Uint8Array[];
    }
  | {
      kind: "storage";
      ranges: { account: Uint8Array; root: Uint8Array; first: Uint8Array; last: Uint8Array; more: boolean }[];
    }
  | { kind: "code"; codeHashes: Uint8Array[] };

/** A verified chunk: what to write (flat view, trie nodes, code) and what it proved. */
export type VerifiedChunk =
  | { kind: "certificates"; certificates: Uint8Array[]; summary: ChunkSummary }
  | { kind: "headers"; headers: BlockHeader[]; summary: ChunkSummary }
  | {
      kind: "accounts";
      accounts: { address: Uint8Array; encoded: Uint8Array; account: Account }[];
      nodes: [Uint8Array, Uint8Array][];
      summary: ChunkSummary;
    }
  | {
      kind: "storage";
      /** Flat-view entries: address, slot, 32-byte word. */
      slots: { address: Uint8Array; slot: Uint8Array; value: Uint8Array }[];
      nodes: [Uint8Array, Uint8Array][];
      summary: ChunkSummary;
    }
  | { kind: "code"; codes: { hash: Uint8Array; code: Uint8Array }[]; summary: ChunkSummary };

/** The chunk's stored bytes are the ones the manifest lists (checked before decompressing). */
export function checkChunkHash(entry: ChunkEntry, stored: Uint8Array): void {
  const got = blake3(stored);
  if (stored.length !== entry.size || !equalBytes(got, entry.hash)) {
    throw new SnapshotError({
      code: "SNAPSHOT_CHUNK_HASH_MISMATCH",
      index: entry.index,
      expected: bytesToHex(entry.hash),
      got: `${bytesToHex(got)} (${stored.length} bytes)`,
    });
  }
}

/**
 * Decode and verify a decompressed chunk against the state root. Throws SnapshotError naming the first rule broken;
 * returns what to write. Pure: nothing is written here.
 */
export async function verifyChunk(entry: ChunkEntry, raw: Uint8Array, stateRoot: Uint8Array): Promise<VerifiedChunk> {
  const malformed = (reason: string) =>
    new SnapshotError({ code: "SNAPSHOT_CHUNK_MALFORMED", index: entry.index, reason });
  if (raw.length !== entry.rawSize) throw malformed(`${raw.length} bytes, the manifest says ${entry.rawSize}`);
  let items: RlpDecoded[];
  let kind: ChunkKind;
  try {
    items = rlpList(rlpDecode(raw, MAX_CHUNK_BYTES), "chunk");
    kind = CHUNK_KINDS[Number(rlpUint(items[0], "kind", 1))] as ChunkKind;
  } catch (e) {
    throw malformed((e as Error).message);
  }
  if (kind !== entry.kind) throw malformed(`a ${kind ?? "unknown"} chunk where the manifest lists ${entry.kind}`);
  try {
    switch (kind) {
      case "certificates":
        return verifyCertificates(entry, items);
      case "headers":
        return verifyHeaders(entry, items);
      case "accounts":
        return await verifyAccounts(entry, items, stateRoot);
      case "storage":
        return await verifyStorage(entry, items, stateRoot);
      case "code":
        return verifyCode(entry, items);
    }
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw malformed(describe(e));
  }
}

/** Run a proof check; any failure in it (a root mismatch, a missing or malformed proof node) is a bad proof. */
async function proven<T>(entry: ChunkEntry, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    throw new SnapshotError({ code: "SNAPSHOT_CHUNK_PROOF_INVALID", index: entry.index, reason: describe(e) });
  }
}

function describe(e: unknown): string {
  const t = (e as { type?: { code?: string; reason?: string } }).type;
  return t?.code ? `${t.code}${t.reason ? `: ${t.reason}` : ""}` : (e as Error).message;
}

function mismatch(entry: ChunkEntry, reason: string): SnapshotError {
  return new SnapshotError({ code: "SNAPSHOT_CHUNK_MISMATCH", index: entry.index, reason });
}

function checkCount(entry: ChunkEntry, count: number): void {
  if (count !== entry.count) throw mismatch(entry, `${count} items, the manifest says ${entry.count}`);
}

function verifyCertificates(entry: ChunkEntry, items: RlpDecoded[]): VerifiedChunk {
  const certificates = rlpList(items[1], "certificates").map((c) => rlpBytes(c, "certificate", MAX_CERTIFICATE_BYTES));
  checkCount(entry, certificates.length);
  return { kind: "certificates", certificates, summary: { kind: "certificates" } };
}

function verifyHeaders(entry: ChunkEntry, items: RlpDecoded[]): VerifiedChunk {
  const headers = rlpList(items[1], "headers").map((h) => decodeHeaderFields(rlpDecode(rlpBytes(h, "header", 4096))));
  checkCount(entry, headers.length);
  for (let i = 1; i < headers.length; i++) {
    const h = headers[i] as BlockHeader;
    const parent = headers[i - 1] as BlockHeader;
    if (h.number !== parent.number + 1n || !equalBytes(h.parentHash, headerHash(blake3, parent))) {
      throw new SnapshotError({
        code: "SNAPSHOT_CHUNK_PROOF_INVALID",
        index: entry.index,
        reason: `header ${h.number} is not the child of header ${parent.number}`,
      });
    }
  }
  const first = headers[0]?.number.toString() ?? "";
  const last = headers.at(-1)?.number.toString() ?? "";
  if (first !== entry.first || last !== entry.last) {
    throw mismatch(entry, `headers ${first}-${last}, the manifest says ${entry.first}-${entry.last}`);
  }
  return { kind: "headers", headers, summary: { kind: "headers" } };
}

async function verifyAccounts(entry: ChunkEntry, items: RlpDecoded[], stateRoot: Uint8Array): Promise<VerifiedChunk> {
  const [, first, list, proofItem] = rlpList(items as RlpDecoded, "accounts chunk", 4);
  const firstKey = rlpBytes(first, "firstKey", 32);
  if (firstKey.length !== 32) throw new Error("firstKey: expected 32 bytes");
  const pairs = rlpList(list, "accounts").map((p) => rlpList(p, "account entry", 2));
  const proof = rlpList(proofItem, "proof").map((n) => rlpBytes(n, "proof node"));
  const accounts = pairs.map(([a, enc]) => {
    const address = rlpBytes(a, "address", 20);
    if (address.length !== 20) throw new Error("address: expected 20 bytes");
    const encoded = rlpBytes(enc, "account");
    return { address, encoded, account: decodeAccount(encoded) };
  });
  checkCount(entry, accounts.length);
  const keys = accounts.map((a) => blake3(a.address));
  const { more, nodes } = await proven(entry, () =>
    verifyRangeProof(
      blake3,
      stateRoot,
      firstKey,
      keys,
      accounts.map((a) => a.encoded),
      proof,
    ),
  );
  const last = keys.at(-1) ?? firstKey;
  if (bytesToHex(firstKey) !== entry.first || bytesToHex(last) !== entry.last) {
    throw mismatch(entry, `keys ${bytesToHex(firstKey)}…${bytesToHex(last)} are not the range the manifest lists`);
  }
  const storageRoots: [Uint8Array, Uint8Array][] = [];
  const codeHashes: Uint8Array[] = [];
  for (const [i, a] of accounts.entries()) {
    if (!equalBytes(a.account.storageRoot, EMPTY_ROOT))
      storageRoots.push([keys[i] as Uint8Array, a.account.storageRoot]);
    if (!equalBytes(a.account.codeHash, BLAKE3_EMPTY)) codeHashes.push(a.account.codeHash);
  }
  return {
    kind: "accounts",
    accounts,
    nodes,
    summary: { kind: "accounts", first: firstKey, last, more, storageRoots, codeHashes },
  };
}

async function verifyStorage(entry: ChunkEntry, items: RlpDecoded[], stateRoot: Uint8Array): Promise<VerifiedChunk> {
  const [, proofItem, rangesItem] = rlpList(items as RlpDecoded, "storage chunk", 3);
  const accountProof = rlpList(proofItem, "account proof").map((n) => rlpBytes(n, "proof node"));
  const slots: { address: Uint8Array; slot: Uint8Array; value: Uint8Array }[] = [];
  const nodes: [Uint8Array, Uint8Array][] = [];
  const ranges: Extract<ChunkSummary, { kind: "storage" }>["ranges"] = [];
  let count = 0;
  let previousAccount: Uint8Array | undefined;
  for (const r of rlpList(rangesItem, "storage ranges")) {
    const [a, f, list, p, w] = rlpList(r, "storage range", 5);
    const address = rlpBytes(a, "address", 20);
    const firstKey = rlpBytes(f, "firstKey", 32);
    if (address.length !== 20 || firstKey.length !== 32) throw new Error("storage range: bad address or firstKey");
    const whole = rlpUint(w, "whole", 1) === 1n;
    const accountKey = blake3(address);
    // Ranges come in account order, one per account: the coverage check relies on a chunk's ranges being distinct.
    if (previousAccount && compareBytes(accountKey, previousAccount) <= 0) {
      throw mismatch(entry, "storage ranges not in strictly increasing account order");
    }
    previousAccount = accountKey;
    const accountEnc = await proven(entry, () => verifyTrieProof(blake3, stateRoot, accountKey, accountProof));
    if (!accountEnc) {
      throw new SnapshotError({
        code: "SNAPSHOT_CHUNK_PROOF_INVALID",
        index: entry.index,
        reason: `account ${bytesToHex(address)} is not in the state`,
      });
    }
    const root = decodeAccount(accountEnc).storageRoot;
    const pairs = rlpList(list, "slots").map((s) => rlpList(s, "slot entry", 2));
    const slotItems = pairs.map(([s, v]) => {
      const slot = rlpBytes(s, "slot", 32);
      if (slot.length !== 32) throw new Error("slot: expected 32 bytes");
      const encoded = rlpBytes(v, "value", 40);
      const word = decodeStorageWord(encoded);
      if (word === 0n) throw new Error("slot value: zero (absent slots are not stored)");
      return { slot, encoded, value: bigintToBytes32(word) };
    });
    count += slotItems.length;
    if (whole && !equalBytes(firstKey, ZERO_KEY)) throw new Error("whole storage range must start at the zero key");
    const keys = slotItems.map((s) => blake3(s.slot));
    const proof = whole ? null : rlpList(p, "proof").map((n) => rlpBytes(n, "proof node"));
    const verified = await proven(entry, () =>
      verifyRangeProof(
        blake3,
        root,
        firstKey,
        keys,
        slotItems.map((s) => s.encoded),
        proof,
      ),
    );
    for (const n of verified.nodes) nodes.push(n);
    for (const s of slotItems) slots.push({ address, slot: s.slot, value: s.value });
    ranges.push({ account: accountKey, root, first: firstKey, last: keys.at(-1) ?? firstKey, more: verified.more });
  }
  checkCount(entry, count);
  return { kind: "storage", slots, nodes, summary: { kind: "storage", ranges } };
}

function verifyCode(entry: ChunkEntry, items: RlpDecoded[]): VerifiedChunk {
  const codes = rlpList(items[1], "codes").map((c) => {
    const code = rlpBytes(c, "code", MAX_CODE_BYTES);
    return { hash: blake3(code), code };
  });
  checkCount(entry, codes.length);
  return { kind: "code", codes, summary: { kind: "code", codeHashes: codes.map((c) => c.hash) } };
}

export function encodeSummary(s: ChunkSummary): Uint8Array {
  switch (s.kind) {
    case "certificates":
    case "headers":
      return rlpEncode([CHUNK_KINDS.indexOf(s.kind)]);
    case "accounts":
      return rlpEncode([2, s.first, s.last, s.more ? 1 : 0, s.storageRoots, s.codeHashes]);
    case "storage":
      return rlpEncode([3, s.ranges.map((r) => [r.account, r.root, r.first, r.last, r.more ? 1 : 0])]);
    case "code":
      return rlpEncode([4, s.codeHashes]);
  }
}

export function decodeSummary(data: Uint8Array): ChunkSummary {
  const items = rlpList(rlpDecode(data, MAX_CHUNK_BYTES), "summary");
  const kind = CHUNK_KINDS[Number(rlpUint(items[0], "kind", 1))];
  const b = (x: RlpDecoded | undefined) => rlpBytes(x, "summary bytes", 32);
  switch (kind) {
    case "certificates":
    case "headers":
      return { kind };
    case "accounts":
      return {
        kind,
        first: b(items[1]),
        last: b(items[2]),
        more: rlpUint(items[3], "more", 1) === 1n,
        storageRoots: rlpList(items[4], "storage roots").map((p) => {
          const [k, r] = rlpList(p, "storage root", 2);
          return [b(k), b(r)] as [Uint8Array, Uint8Array];
        }),
        codeHashes: rlpList(items[5], "code hashes").map(b),
      };
    case "storage":
      return {
        kind,
        ranges: rlpList(items[1], "ranges").map((r) => {
          const [account, root, first, last, more] = rlpList(r, "range", 5);
          return {
            account: b(account),
            root: b(root),
            first: b(first),
            last: b(last),
            more: rlpUint(more, "more", 1) === 1n,
          };
        }),
      };
    case "code":
      return { kind, codeHashes: rlpList(items[1], "code hashes").map(b) };
    default:
      throw new SnapshotError({ code: "SNAPSHOT_INCOMPLETE", reason: "unknown chunk summary" });
  }
}
