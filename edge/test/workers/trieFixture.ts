// Trie entries for sharedRuntime.test.ts, the same on every run and in every runtime (xorshift32 from a fixed seed):
// the workers config computes their BLAKE3 root on Node with @ethereumjs/trie (the reference trie, which cannot load
// in workerd: it needs Node streams) and hands it over with vitest's `provide`; the test recomputes it inside workerd
// with shared's trie and the pure-JS BLAKE3.
export function trieFixtureEntries(count = 300): [Uint8Array, Uint8Array][] {
  let state = 0x2545f491;
  const byte = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state & 255;
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, byte);
  // Keys of two lengths (as accounts and storage slots), values of 1-70 bytes (embedded and hashed nodes).
  return Array.from({ length: count }, (_, i) => [bytes(i % 3 === 0 ? 32 : 20), bytes(1 + (i % 70))]);
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Hex root of trieFixtureEntries() under BLAKE3, from @ethereumjs/trie on Node. */
    blake3TrieFixtureRoot: string;
  }
}
