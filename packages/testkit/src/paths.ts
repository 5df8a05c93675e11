// Where things are in the repository: the root, the agents' and the CLI's bins, the sample app.
// The one place a suite, the demo or a bench learns a path.

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from this file's location (packages/testkit/src/). */
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** The bins, run as `node <bin>` (see `shebangNodeFlags`). */
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
