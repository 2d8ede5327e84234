// The completeness check of a restored snapshot. Each chunk proves that it holds every key of its range (range
// proofs: no key between two proven keys is missing); the state is complete when the proven account ranges tile the
// key space from 0x00…00 with the last one reporting nothing to its right, every account with storage has storage
// ranges tiling its storage trie the same way, and the code of every account's code hash arrived. So a manifest that
// leaves a chunk out, or a store that withholds one, is caught here, whatever the manifest's chunk list claims.
import { bytesToBigint, bytesToHex } from "../hex.ts";
import type { ChunkSummary } from "./chunks.ts";
import { SnapshotError } from "./errors.ts";

interface Range {
  first: bigint;
  last: bigint;
  more: boolean;
}

function incomplete(reason: string): SnapshotError {
  return new SnapshotError({ code: "SNAPSHOT_INCOMPLETE", reason });
}

/** Ranges sorted by their first key tile [0, end]: each starts right after the previous one, the last has no more. */
function checkTiling(ranges: Range[], what: string): void {
  ranges.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  let expected = 0n;
  for (const [i, r] of ranges.entries()) {
    if (r.first !== expected) {
      throw incomplete(`${what}: keys from 0x${expected.toString(16).padStart(64, "0")} are not covered`);
    }
    const isLast = i === ranges.length - 1;
    if (isLast && r.more) throw incomplete(`${what}: keys after the last range are not covered`);
    if (!isLast && !r.more) throw incomplete(`${what}: a range that ends the trie is followed by another`);
    expected = r.last + 1n;
  }
  if (ranges.length === 0) throw incomplete(`${what}: no range`);
}

export class SnapshotCoverage {
  private readonly accountRanges: Range[] = [];
  /** Storage root of every account with storage (hashed key hex → root hex), from the account chunks. */
  private readonly storageRoots = new Map<string, string>();
  /** Storage ranges per account (hashed key hex), with the root they were proven against. */
  private readonly storageRanges = new Map<string, (Range & { root: string })[]>();
  private readonly codeNeeded = new Set<string>();
  private readonly codeHave = new Set<string>();

  add(s: ChunkSummary): void {
    switch (s.kind) {
      case "accounts":
        this.accountRanges.push({ first: bytesToBigint(s.first), last: bytesToBigint(s.last), more: s.more });
        for (const [k, root] of s.storageRoots) this.storageRoots.set(bytesToHex(k), bytesToHex(root));
        for (const h of s.codeHashes) this.codeNeeded.add(bytesToHex(h));
        return;
      case "storage":
        for (const r of s.ranges) {
          const k = bytesToHex(r.account);
          const list = this.storageRanges.get(k) ?? [];
          list.push({
            first: bytesToBigint(r.first),
            last: bytesToBigint(r.last),
            more: r.more,
            root: bytesToHex(r.root),
          });
          this.storageRanges.set(k, list);
        }
        return;
      case "code":
        for (const h of s.codeHashes) this.codeHave.add(bytesToHex(h));
        return;
      default:
        return;
    }
  }

  /** Throws SNAPSHOT_INCOMPLETE naming the first gap; `haveCode` answers for code already stored locally. */
  check(haveCode: (hash: string) => boolean = () => false): void {
    checkTiling(this.accountRanges, "accounts");
    for (const [account, root] of this.storageRoots) {
      const ranges = (this.storageRanges.get(account) ?? []).filter((r) => r.root === root);
      checkTiling(ranges, `storage of account key ${account}`);
    }
    for (const h of this.codeNeeded) {
      if (!this.codeHave.has(h) && !haveCode(h)) throw incomplete(`code ${h} is missing`);
    }
  }
}
