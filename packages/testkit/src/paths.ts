// Where things are in the repository: the root, the agents' and the CLI's bins, the sample app.
// The one place a suite, the demo or a bench learns a path.

import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root, from this file's location (packages/testkit/src/). */
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * The bins, as installed from a checkout: they run the built JavaScript (`npm run build`). The
 * suites run the sources instead (`SOURCES`, `sourceArgs`), so they need no build.
 */
export const BINS = {
  coordinator: join(REPO_ROOT, "packages/coordinator/bin/bluegreen-coordinator.js"),
  switcher: join(REPO_ROOT, "packages/switcher/bin/bluegreen-switcher.js"),
  nodeAgent: join(REPO_ROOT, "packages/node-agent/bin/bluegreen-node-agent.js"),
  monitor: join(REPO_ROOT, "packages/monitor/bin/bluegreen-monitor.js"),
  notifier: join(REPO_ROOT, "packages/notifier/bin/bluegreen-notifier.js"),
  cli: join(REPO_ROOT, "packages/cli/bin/bluegreen.js"),
} as const;
export type AgentBin = Exclude<keyof typeof BINS, "cli">;

export const SAMPLE_APP_MAIN = join(REPO_ROOT, "examples/sample-app/src/main.ts");
export const SAMPLE_APP_CTL = join(REPO_ROOT, "examples/sample-app/bin/sample-app-ctl.js");

/** Each bin's TypeScript entry (what the bin runs, built). */
export const SOURCES = {
  coordinator: join(REPO_ROOT, "packages/coordinator/src/main.ts"),
  switcher: join(REPO_ROOT, "packages/switcher/src/main.ts"),
  nodeAgent: join(REPO_ROOT, "packages/node-agent/src/main.ts"),
  monitor: join(REPO_ROOT, "packages/monitor/src/main.ts"),
  notifier: join(REPO_ROOT, "packages/notifier/src/main.ts"),
  cli: join(REPO_ROOT, "packages/cli/src/main.ts"),
} as const satisfies Record<keyof typeof BINS, string>;

/**
 * Node's flags to run a package's sources: tsx as the loader, and the `bluegreen-source`
 * export condition so that `@bluegreen/*` resolves to `src/` instead of `dist/`.
 */
export const SOURCE_NODE_FLAGS: readonly string[] = [
  "--conditions=bluegreen-source",
  "--import",
  pathToFileURL(join(REPO_ROOT, "node_modules/tsx/dist/loader.mjs")).href,
];
