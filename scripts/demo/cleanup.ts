// No process left behind: every process the demo starts inherits a marker in its environment
// (BLUEGREEN_DEMO_RUN=<run id>), including the apps the node agents start detached. After the
// orderly stop, anything still carrying the marker gets a short grace period to exit, then is
// reported and killed.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { killAll, pidsWithEnv } from "@bluegreen/testkit";

export const MARKER = "BLUEGREEN_DEMO_RUN";

/** Sets the marker in this process' environment (children inherit it); returns its value. */
export function markThisRun(): string {
  const runId = `demo-${randomBytes(3).toString("hex")}`;
  process.env[MARKER] = runId;
  return runId;
}

/** Processes carrying this run's marker, other than this process and its parent. */
export function leftovers(runId: string): number[] {
  return pidsWithEnv(MARKER, runId).filter((pid) => pid !== process.pid && pid !== process.ppid);
}

function describe(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return `${pid} (${argv.slice(0, 3).join(" ").slice(0, 100)})`;
  } catch {
    return String(pid);
  }
}

/**
 * Waits up to `graceMs` for this run's processes to be gone, then kills what is left; returns
 * those, described (pid and command).
 */
export async function sweep(runId: string, graceMs = 3_000): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  while (leftovers(runId).length > 0 && Date.now() < deadline) await sleep(100);
  const found = leftovers(runId).map(describe);
  if (found.length > 0) await killAll(() => leftovers(runId), "demo processes");
  return found;
}
