import { defineConfig } from "vitest/config";

// Two projects: fast pure unit tests beside the code, and suites over real processes in tests/.
// Suites that start servers run one file at a time per worker; two workers on two cores.
// `@bluegreen/*` resolves to each package's sources (the `bluegreen-source` export condition),
// so the suites need no build; the processes they start run the sources the same way
// (testkit's SOURCE_NODE_FLAGS). tests/release builds and runs what ships.
const SOURCE_CONDITIONS = ["bluegreen-source", "node", "import", "default"];

export default defineConfig({
  resolve: { conditions: SOURCE_CONDITIONS },
  ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: ["packages/*/src/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          sequence: { groupOrder: 1 },
          include: ["tests/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
