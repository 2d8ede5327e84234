import { defineConfig } from "vitest/config";

// Three projects:
// - "node": everything under Node, files in parallel;
// - "consensus": the multi-validator e2e tests, one file at a time (each runs a cluster of processes with real slots);
// - "workers" (edge/vitest.workers.config.ts): the edge's Worker and Durable Objects inside workerd.
// `npm test` runs node + workers first, then consensus.
const CONSENSUS = "tests/consensus*.test.ts";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: [
            "shared/**/*.test.ts",
            "validator/**/*.test.ts",
            "tests/**/*.test.ts",
            "contracts/**/*.test.ts",
            "edge/src/**/*.test.ts",
            "bridge-relayer/**/*.test.ts",
            "terraform/**/*.test.ts",
            "infra/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**", CONSENSUS],
          pool: "forks",
        },
      },
      {
        extends: true,
        test: {
          name: "consensus",
          include: [CONSENSUS],
          pool: "forks",
          fileParallelism: false,
        },
      },
      "edge/vitest.workers.config.ts",
    ],
  },
});
