import { defineConfig } from "vitest/config";

// Two projects: "node" runs everything under Node; "workers" (edge/vitest.workers.config.ts) runs the edge's Worker
// and Durable Objects inside workerd.
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
          ],
          exclude: ["**/node_modules/**"],
          pool: "forks",
        },
      },
      "edge/vitest.workers.config.ts",
    ],
  },
});
