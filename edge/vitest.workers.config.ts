// The "workers" test project: the Worker (wrangler.toml's main) and its Durable Objects run inside workerd, and the
// tests in edge/test/workers/ talk to them through `cloudflare:test` (SELF.fetch, env, runInDurableObject).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { Trie } from "@ethereumjs/trie";
import { cryptoProvider as nativeCrypto } from "@rustchain/shared/crypto/native";
import { defineConfig } from "vitest/config";
import { createFakeCore, FAKE_CORE_ORIGIN } from "./test/workers/fakeCore.ts";
import { trieFixtureEntries } from "./test/workers/trieFixture.ts";

/** Test-only secrets (never a real deployment's). The key is what edge/test/workers/bundles.ts signs with. */
export const TEST_REPLICATION_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
export const TEST_METRICS_TOKEN = "test-metrics-token";

/** The reference BLAKE3 root of the trie fixture, computed here on Node (see test/workers/trieFixture.ts). */
async function blake3TrieFixtureRoot(): Promise<string> {
  // @ethereumjs/trie v6: the key-hashing function is the node hash too; `useKeyHashing: false` leaves keys as given.
  const trie = new Trie({ useKeyHashing: false, useKeyHashingFunction: nativeCrypto.blake3 });
  for (const [key, value] of trieFixtureEntries()) await trie.put(key, value);
  return `0x${Array.from(trie.root(), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        bindings: {
          REPLICATION_KEY: TEST_REPLICATION_KEY,
          METRICS_TOKEN: TEST_METRICS_TOKEN,
          // The core's JSON-RPC is unreachable (the fake core answers 502): forwarded calls answer "core unavailable".
          CORE_RPC_URL: `${FAKE_CORE_ORIGIN}/rpc`,
          // Gap pulls (on a 409 and on the alarm) go to the fake core's replication endpoints.
          CORE_REPLICATION_URL: FAKE_CORE_ORIGIN,
          // The alarm never fires by itself during a run (tests fire it with runDurableObjectAlarm): a pull in flight
          // holds a 10 s timeout timer, which would keep the object from being evicted promptly.
          PULL_INTERVAL_SECONDS: "3600",
          // A budget that does not refill during a test, so the rate-limit test is exact; tests use distinct client IPs.
          RATE_LIMIT_PER_SECOND: "0.01",
          RATE_LIMIT_BURST: "200",
        },
        outboundService: createFakeCore(
          new Uint8Array(TEST_REPLICATION_KEY.match(/../g)!.map((b) => Number.parseInt(b, 16))),
        ),
      },
    }),
  ],
  test: {
    name: "workers",
    include: ["test/workers/**/*.test.ts"],
    testTimeout: 30_000,
    provide: { blake3TrieFixtureRoot: await blake3TrieFixtureRoot() },
  },
});
