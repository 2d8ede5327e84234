// An exact set of trie node hashes for the pruner's mark phase: millions of entries in flat typed arrays (16 bytes a
// slot, open addressing, kept at most half full), where a JS Set of strings would cost ~100 bytes an entry and stops
// at 2^24 entries. A hash is keyed by its first 16 bytes: BLAKE3 output is uniform, so two distinct nodes share a key
// with probability n²/2^129 (about 10^-21 for a billion nodes), far below BLAKE3's own collision bound of 2^128.

const WORDS = 4;
const INITIAL_SLOTS = 1 << 16;

function word(h: Uint8Array, i: number): number {
  const o = i * 4;
  return (
    ((h[o] as number) | ((h[o + 1] as number) << 8) | ((h[o + 2] as number) << 16) | ((h[o + 3] as number) << 24)) >>> 0
  );
}

export class NodeHashSet {
  private table = new Uint32Array(INITIAL_SLOTS * WORDS);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;
  /** The all-zero key marks an empty slot, so a hash whose first 16 bytes are zero is kept aside. */
  private zero = false;

  get size(): number {
    return this.count + (this.zero ? 1 : 0);
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.table.byteLength;
  }

  has(hash: Uint8Array): boolean {
    const w0 = word(hash, 0);
    const w1 = word(hash, 1);
    const w2 = word(hash, 2);
    const w3 = word(hash, 3);
    if ((w0 | w1 | w2 | w3) === 0) return this.zero;
    const t = this.table;
    for (let slot = w0 & this.mask; ; slot = (slot + 1) & this.mask) {
      const o = slot * WORDS;
      const a = t[o] as number;
      const b = t[o + 1] as number;
      const c = t[o + 2] as number;
      const d = t[o + 3] as number;
      if ((a | b | c | d) === 0) return false;
      if (a === w0 && b === w1 && c === w2 && d === w3) return true;
    }
  }

  /** Add `hash`; false when it was there already. */
  add(hash: Uint8Array): boolean {
    const w0 = word(hash, 0);
    const w1 = word(hash, 1);
    const w2 = word(hash, 2);
    const w3 = word(hash, 3);
    if ((w0 | w1 | w2 | w3) === 0) {
      if (this.zero) return false;
      this.zero = true;
      return true;
    }
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    return this.insert(w0, w1, w2, w3);
  }

  private insert(w0: number, w1: number, w2: number, w3: number): boolean {
    const t = this.table;
    for (let slot = w0 & this.mask; ; slot = (slot + 1) & this.mask) {
      const o = slot * WORDS;
      const a = t[o] as number;
      const b = t[o + 1] as number;
      const c = t[o + 2] as number;
      const d = t[o + 3] as number;
      if ((a | b | c | d) === 0) {
        t[o] = w0;
        t[o + 1] = w1;
        t[o + 2] = w2;
        t[o + 3] = w3;
        this.count++;
        return true;
      }
      if (a === w0 && b === w1 && c === w2 && d === w3) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    this.table = new Uint32Array(slots * WORDS);
    this.mask = slots - 1;
    this.count = 0;
    for (let o = 0; o < old.length; o += WORDS) {
      const a = old[o] as number;
      const b = old[o + 1] as number;
      const c = old[o + 2] as number;
      const d = old[o + 3] as number;
      if ((a | b | c | d) !== 0) this.insert(a, b, c, d);
    }
  }
}
