import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BgEvent } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import { z } from "zod";
import { type EventMaker, stepProgress } from "./events.ts";
import { KILL_GRACE_MS } from "./executors/executor.ts";
import { groupAlive, signalGroup, statOf } from "./executors/process-group.ts";

/**
 * Steps that outlive the agent. While a step runs on this host, a small file in the agent's
 * `state_dir` says which deployment it belongs to and which process group it is; a step that
 * ends (any way) removes its file. A file found at start-up is a step that was running when
 * the agent died: its group is ended and `deploy.progress` (status `interrupted`) says so in
 * the deployment's events, before the agent consumes anything.
 */

const runningStepSchema = z.object({
  service: z.string(),
  deploymentId: z.string(),
  node: z.string(),
  color: z.enum(["blue", "green"]),
  version: z.string(),
  step: z.int().min(1),
  steps: z.int().min(1),
  command: z.array(z.string()),
  /** The step's pid, which leads its process group. */
  pid: z.int().min(2),
  /** Which boot of the host ran it: after a reboot the group is gone, its pid may be anyone's. */
  bootId: z.string(),
  /** The leader's start time (/proc stat): a reused pid has another. */
  startTime: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
});
export type RunningStep = z.infer<typeof runningStepSchema>;

/** What a deploy tells the ledger about one step. */
export type StepNote = Pick<RunningStep, "step" | "steps" | "command" | "pid">;
export type DeployOf = Pick<RunningStep, "service" | "deploymentId" | "node" | "color" | "version">;

/** The hooks one node's deploy uses: a step began (its pid known), a step ended. */
export interface RunningSteps {
  began(note: StepNote): void;
  ended(): void;
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_");

export class StepLedger {
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The hooks for one (deployment, node). A failed write is logged; the deploy goes on. */
  forDeploy(of: DeployOf): RunningSteps {
    const path = join(
      this.dir,
      `step-${safe(of.service)}-${safe(of.deploymentId)}-${safe(of.node)}.json`,
    );
    return {
      began: (note) => {
        const record: RunningStep = {
          ...of,
          ...note,
          bootId: bootId(),
          startTime: statOf(String(note.pid))?.startTime ?? "",
          startedAt: new Date().toISOString(),
        };
        try {
          writeFileSync(`${path}.tmp`, JSON.stringify(record), { mode: 0o600 });
          renameSync(`${path}.tmp`, path);
        } catch (err) {
          this.logger.warn({ err, path }, "could not note the running step");
        }
      },
      ended: () => rmSync(path, { force: true }),
    };
  }

  /** Forgets a note once its step is dealt with. */
  drop(path: string): void {
    rmSync(path, { force: true });
  }

  /** The steps noted and never ended (unreadable notes are dropped). */
  left(): { path: string; step: RunningStep }[] {
    const found: { path: string; step: RunningStep }[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith("step-") || !name.endsWith(".json")) continue;
      const path = join(this.dir, name);
      const parsed = runningStepSchema.safeParse(
        (() => {
          try {
            return JSON.parse(readFileSync(path, "utf8"));
          } catch {
            return undefined;
          }
        })(),
      );
      if (parsed.success) found.push({ path, step: parsed.data });
      else {
        this.logger.warn({ path }, "unreadable running-step note dropped");
        rmSync(path, { force: true });
      }
    }
    return found;
  }
}

/** What became of a step's group: ended now, or gone before the agent came back. */
export type Ending = "ended" | "gone";

/** Ends the group if it is still the step's (same boot, same leader), TERM then KILL. */
export async function endGroup(step: RunningStep, graceMs = KILL_GRACE_MS): Promise<Ending> {
  if (step.bootId !== bootId()) return "gone";
  const leader = statOf(String(step.pid));
  // A live leader with another start time is a reused pid: not the step's, leave it.
  if (leader !== undefined && leader.state !== "Z" && leader.startTime !== step.startTime)
    return "gone";
  if (!groupAlive(step.pid)) return "gone";
  signalGroup(step.pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (groupAlive(step.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(step.pid)) signalGroup(step.pid, "SIGKILL");
  return "ended";
}

/** The `deploy.progress` that records an interrupted step in its deployment's events. */
export function interruptedEvent(
  make: EventMaker,
  step: RunningStep,
  ending: Ending,
): BgEvent<"deploy.progress"> {
  const what =
    ending === "ended"
      ? `its process group ${step.pid} was still running and was ended`
      : `its process group ${step.pid} was gone already`;
  return stepProgress(
    make,
    { node: step.node, color: step.color, version: step.version },
    { step: step.step, steps: step.steps, command: step.command },
    "interrupted",
    {
      durationMs: Math.max(0, Date.now() - Date.parse(step.startedAt)),
      outputTail: `the node agent stopped while this step ran; on restart, ${what}`,
    },
  );
}
