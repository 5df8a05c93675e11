// What the suites that SIGKILL the switcher between writing the upstream file and reloading
// nginx share: a temp dir for the switchers they start themselves (stopped after the suite), a
// reload command that marks that the switch got there and then hangs, and event counts.

import { existsSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { type AgentProcess, makeTempDir, type TempDir, waitFor } from "@bluegreen/testkit";
import { afterAll, beforeAll } from "vitest";

export interface OwnAgents {
  /** The suite's temp dir (`name`), for its agents' configs and scripts. */
  readonly work: TempDir;
  /** Push each agent the suite starts: all are stopped after it. */
  readonly agents: AgentProcess[];
}

/**
 * A temp dir made before the suite's tests; after them the agents pushed are stopped and the
 * dir removed. Call it after the suite's own hooks: its afterAll then runs first (after hooks
 * run in reverse order), while NATS and nginx are still up.
 */
export function ownAgents(name: string): OwnAgents {
  const own = { agents: [] as AgentProcess[] } as { work: TempDir; agents: AgentProcess[] };
  beforeAll(async () => {
    own.work = await makeTempDir(name);
  });
  afterAll(async () => {
    for (const agent of own.agents) await agent.stop().catch(() => undefined);
    await own.work?.remove();
  }, 60_000);
  return own;
}

export interface HangingReload {
  /** The reload argv to give the switcher. */
  readonly command: string[];
  /** Resolves once the switcher has run the command (it then hangs). */
  reached(timeoutMs: number): Promise<void>;
}

/** Writes a reload script into `work` that marks that the switcher reached it, then hangs. */
export async function hangingReload(work: TempDir): Promise<HangingReload> {
  const marker = work.file("reload-reached");
  const hang = work.file("reload-hangs.sh");
  await writeFile(
    hang,
    `#!/bin/sh\n# The switcher reached its reload step: say so, then never reload.\n: > ${JSON.stringify(marker)}\nexec sleep 600\n`,
  );
  await chmod(hang, 0o755);
  return {
    command: ["/bin/sh", hang],
    reached: async (timeoutMs) => {
      await waitFor(() => (existsSync(marker) ? true : undefined), {
        what: "the switcher to reach its reload command",
        timeoutMs,
        intervalMs: 5,
      });
    },
  };
}

/** How many events of each name (`switch.done`…) are among `events`. */
export function countByName(events: readonly { type: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const name = e.type.replace("bluegreen.", "");
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
