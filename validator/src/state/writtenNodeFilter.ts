// The trie nodes written since a pruning run began, as a Bloom filter: the pruner never deletes a node that may be in
// it. A false positive only keeps a garbage node until the next run; a false negative cannot happen. Node hashes are
// BLAKE3 output, uniform already, so the filter's indexes are taken straight from the hash's last 16 bytes (the
// mark set keys on the first 16) and adding a node costs four bit sets, not a hash computation.

const PROBES = 4;

export class WrittenNodeFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  /** Nodes added (with repeats). */
  added = 0;

  /** A filter of 2^`log2Bits` bits (32 bits to 256 MiB). */
  constructor(log2Bits: number) {
    if (!Number.isInteger(log2Bits) || log2Bits < 5 || log2Bits > 31) throw new RangeError("log2Bits: 5..31");
    this.bits = new Uint32Array(2 ** (log2Bits - 5));
    this.mask = 2 ** log2Bits - 1;
  }

  private index(hash: Uint8Array, i: number): number {
    const o = 16 + i * 4;
    const w =
      (hash[o] as number) |
      ((hash[o + 1] as number) << 8) |
      ((hash[o + 2] as number) << 16) |
      ((hash[o + 3] as number) << 24);
    return w & this.mask;
  }

  add(hash: Uint8Array): void {
    this.added++;
    for (let i = 0; i < PROBES; i++) {
      const b = this.index(hash, i);
      this.bits[b >>> 5] = (this.bits[b >>> 5] as number) | (1 << (b & 31));
    }
  }

  mayHave(hash: Uint8Array): boolean {
    for (let i = 0; i < PROBES; i++) {
      const b = this.index(hash, i);
      if (((this.bits[b >>> 5] as number) & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }
}
