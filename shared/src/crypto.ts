// The runtime's cryptography. package.json maps "#crypto" by export condition: under "workerd", "worker" or
// "browser" (the conditions wrangler's esbuild and @cloudflare/vitest-plugin resolve with) it is crypto/noble.ts,
// pure JavaScript; everywhere else (node, tsx, vitest's node project, esbuild for Node) crypto/native.ts. Nothing has
// to be installed at start-up, and both are typed as CryptoProvider. How it is chosen and checked: docs/edge.md,
// "Shared code in Workers: crypto per runtime". hash.ts, secp256k1.ts and bls.ts build the chain's rules on it.
export { cryptoProvider } from "#crypto";
export type { CryptoProvider } from "./crypto/cryptoProvider.ts";
