import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BgEvent } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import { z } from "zod";
import { type EventMaker, eventMaker, stepProgress } from "./events.ts";
import { KILL_GRACE_MS, type Spawned } from "./executors/executor.ts";
import type { RemoteGroups, SshEndpoint } from "./executors/factory.ts";
import {
  type GroupHost,
  type GroupSighting,
  hostBootId,
  localGroupHost,
  statOf,
} from "./executors/process-group.ts";

/**
 * Steps that outlive the agent. While a step runs (on this host, or on a node over SSH), a
 * small file in the agent's `state_dir` says which deployment it belongs to and which process
 * group it is, where; a step that ends (any way) removes its file. A file found at start-up is
 * a step that was running when the agent died: its group is ended (over SSH for a node) and
 * `deploy.progress` (status `interrupted`) says so in the deployment's events, before the
 * agent consumes anything.
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
  /**
   * Which boot of the host ran it: after a reboot the group is gone, its pid may be anyone's.
   * Over SSH, the node's ("" when the node has none: its group is then left alone).
   */
  bootId: z.string(),
  /** The leader's start time (/proc stat): a reused pid has another. */
  startTime: z.string(),
  /** Set when the step ran on a node over SSH: its sshd and the user logged in there. */
  ssh: z.object({ host: z.string(), port: z.int().min(1), user: z.string() }).optional(),
  startedAt: z.iso.datetime({ offset: true }),
  /**
   * Set when the step's run ended here while the step may still run on its node (the SSH
   * connection lost, or its kill not sent): why. The note is kept for the agent to end it.
   */
  left: z.string().optional(),
});
export type RunningStep = z.infer<typeof runningStepSchema>;

/** What a deploy tells the ledger about one step. */
export type StepNote = Pick<RunningStep, "step" | "steps" | "command"> & Spawned;
export type DeployOf = Pick<RunningStep, "service" | "deploymentId" | "node" | "color" | "version">;

/**
 * The hooks one node's deploy uses: a step began (its pid known), a step's run ended (with why
 * it may still run on its node, when it may: its note is then kept).
 */
export interface RunningSteps {
  began(note: StepNote): void;
  ended(mayStillRun?: string): void;
}

const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_");

export class StepLedger {
  /**
   * `onKept` is told of each note kept because its step may still run on its node (path, and
   * the note's `startedAt`), for the agent to try it again while it runs.
   */
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly onKept: (path: string, startedAt: string) => void = () => undefined,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /**
   * The hooks for one (deployment, node). A failed write is logged; the deploy goes on. Each
   * step gets a file of its own (its number and pid in the name): a note kept from an earlier
   * run of the same deployment (its node unreachable) is never overwritten. A step whose run
   * ended while it may still run on its node keeps its note, with why (`left`).
   */
  forDeploy(of: DeployOf): RunningSteps {
    const prefix = `step-${safe(of.service)}-${safe(of.deploymentId)}-${safe(of.node)}`;
    let path: string | undefined;
    let noted: RunningStep | undefined;
    const write = (at: string, record: RunningStep): boolean => {
      try {
        writeFileSync(`${at}.tmp`, JSON.stringify(record), { mode: 0o600 });
        renameSync(`${at}.tmp`, at);
        return true;
      } catch (err) {
        this.logger.warn({ err, path: at }, "could not note the running step");
        return false;
      }
    };
    return {
      began: ({ remote, ...note }) => {
        path = join(this.dir, `${prefix}-${note.step}-${note.pid}.json`);
        const record: RunningStep = {
          ...of,
          ...note,
          ...(remote === undefined
            ? { bootId: hostBootId(), startTime: statOf(String(note.pid))?.startTime ?? "" }
            : {
                bootId: remote.bootId,
                startTime: remote.startTime,
                ssh: { host: remote.host, port: remote.port, user: remote.user },
              }),
          startedAt: new Date().toISOString(),
        };
        noted = write(path, record) ? record : undefined;
      },
      ended: (mayStillRun) => {
        const at = path;
        path = undefined;
        if (at === undefined) return;
        if (mayStillRun !== undefined && noted !== undefined && noted.ssh !== undefined) {
          if (write(at, { ...noted, left: mayStillRun })) {
            this.logger.warn(
              { path: at, pid: noted.pid, reason: mayStillRun },
              "a step may still run on its node: its note is kept, the agent tries to end it",
            );
            this.onKept(at, noted.startedAt);
            return;
          }
        }
        rmSync(at, { force: true });
      },
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

/**
 * What became of a step's group: ended now; gone before the agent came back; left alone because
 * the node did not say which process it was (no /proc there); its node could not be reached
 * (the note is kept and tried again); or it still could not be, or did not answer as the probe
 * does, KEPT_NOTE_MAX_AGE_MS after the step started (the note is dropped, the group unchecked).
 */
export type Ending = "ended" | "gone" | "unchecked" | "unreachable" | "expired";

/** How long after its step started a note whose node never answers is kept: a day. */
export const KEPT_NOTE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Whether the group a host shows now is still the noted step's (same boot, same leader). */
export function stillTheStep(
  noted: Pick<RunningStep, "bootId" | "startTime">,
  seen: GroupSighting,
): "ours" | "gone" | "unchecked" {
  if (noted.bootId === "") return "unchecked";
  if (noted.bootId !== seen.bootId) return "gone";
  // A leader with another start time is a reused pid, zombie or not (a zombie's stat still
  // holds its start time): not the step's, leave its group alone.
  const leader = seen.leader;
  if (leader !== undefined && leader.startTime !== noted.startTime) return "gone";
  return seen.groupAlive ? "ours" : "gone";
}

/**
 * Ends the group if it is still the step's, TERM then KILL after the grace. The group is looked
 * at again (same boot, same leader) before the KILL: in the grace it may have ended and its pid
 * gone to another group.
 */
export async function endGroup(
  step: RunningStep,
  host: GroupHost = localGroupHost,
  graceMs = KILL_GRACE_MS,
): Promise<"ended" | "gone" | "unchecked"> {
  const ours = async () => stillTheStep(step, await host.look(step.pid)) === "ours";
  const verdict = stillTheStep(step, await host.look(step.pid));
  if (verdict !== "ours") return verdict;
  await host.signal(step.pid, "TERM");
  const until = Date.now() + graceMs;
  while ((await ours()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (await ours()) await host.signal(step.pid, "KILL");
  return "ended";
}

/** Where a noted step ran, for logs and events. */
function whereOf(step: RunningStep): string {
  return step.ssh === undefined ? "" : ` on ${step.ssh.user}@${step.ssh.host}:${step.ssh.port}`;
}

/** The `deploy.progress` that records an interrupted step in its deployment's events. */
export function interruptedEvent(
  make: EventMaker,
  step: RunningStep,
  ending: Ending,
  reason = "",
): BgEvent<"deploy.progress"> {
  const group = `its process group ${step.pid}${whereOf(step)}`;
  const what = {
    ended: `${group} was still running and was ended`,
    gone: `${group} was gone already`,
    unchecked: `${group} was left alone: the node did not say which boot and process it was (no /proc)`,
    unreachable: `the node could not be reached over SSH (${reason}): ${group} may still run there; the agent tries again every ${LEFT_STEP_RETRY_MS / 1000} s and at its next start`,
    expired: `${group} was left unchecked: the node still could not be reached over SSH or did not answer as expected (${reason}) ${KEPT_NOTE_MAX_AGE_MS / 3_600_000} h after the step started; the agent no longer tries`,
  }[ending];
  return stepProgress(
    make,
    { node: step.node, color: step.color, version: step.version },
    { step: step.step, steps: step.steps, command: step.command },
    "interrupted",
    {
      durationMs: Math.max(0, Date.now() - Date.parse(step.startedAt)),
      outputTail:
        step.left === undefined
          ? `the node agent stopped while this step ran; on restart, ${what}`
          : `${step.left}; on a later try, ${what}`,
    },
  );
}

/** How often the agent tries again to end a step whose node it could not reach. */
export const LEFT_STEP_RETRY_MS = 30_000;

export interface LeftStepsDeps {
  readonly ledger: StepLedger;
  /** The way to a node's groups (SSH, host key checked). */
  readonly remote: RemoteGroups;
  readonly publish: (event: BgEvent<"deploy.progress">) => Promise<void>;
  /** The agent's CloudEvent source. */
  readonly source: string;
  readonly logger: Logger;
  readonly graceMs?: number;
  /** KEPT_NOTE_MAX_AGE_MS unless told. */
  readonly maxAgeMs?: number;
  /**
   * Notes kept because their node could not be reached, by path (their `startedAt`): each is
   * reported once, not at every try. Updated here.
   */
  readonly kept: Map<string, string>;
}

/**
 * The notes a retry looks at: only those kept (same note, same `startedAt`); any other note in
 * `state_dir` by then is a step this process runs now.
 */
export function keptNotes<T extends { path: string; step: Pick<RunningStep, "startedAt"> }>(
  notes: readonly T[],
  kept: ReadonlyMap<string, string>,
): T[] {
  return notes.filter((n) => kept.get(n.path) === n.step.startedAt);
}

const endpointKey = (e: SshEndpoint) => `${e.user}@${e.host}:${e.port}`;

/**
 * Ends the groups that `notes` (read from the ledger) name and records each in its
 * deployment's events; one connection per node, nodes in parallel. A note whose node cannot be
 * reached is kept (and said so once); after a node's first failed command its other notes are
 * kept without trying; a kept note older than KEPT_NOTE_MAX_AGE_MS is dropped (said so); a
 * note whose event cannot be published stays too (the error is thrown). Returns how many
 * notes are kept.
 */
export async function endLeftSteps(
  deps: LeftStepsDeps,
  notes: readonly { path: string; step: RunningStep }[],
): Promise<number> {
  const byHost = new Map<string, { path: string; step: RunningStep }[]>();
  for (const left of notes) {
    const key = left.step.ssh === undefined ? "" : endpointKey(left.step.ssh);
    byHost.set(key, [...(byHost.get(key) ?? []), left]);
  }
  const kept = await Promise.all(
    [...byHost.values()].map(async (notes) => {
      const endpoint = notes[0]?.step.ssh;
      let host: GroupHost = localGroupHost;
      let unreachable: string | undefined;
      if (endpoint !== undefined) {
        try {
          host = await deps.remote(endpoint);
        } catch (err) {
          unreachable = err instanceof Error ? err.message : String(err);
        }
      }
      let keptHere = 0;
      try {
        for (const { path, step } of notes) {
          let ending: Ending;
          let reason = unreachable ?? "";
          if (unreachable === undefined) {
            try {
              ending = await endGroup(step, host, deps.graceMs);
            } catch (err) {
              ending = "unreachable";
              reason = err instanceof Error ? err.message : String(err);
              // The node's shell did not answer: its other notes would each wait as long.
              unreachable = reason;
            }
          } else ending = "unreachable";
          const age = Date.now() - Date.parse(step.startedAt);
          if (ending === "unreachable" && age > (deps.maxAgeMs ?? KEPT_NOTE_MAX_AGE_MS))
            ending = "expired";
          const fields = {
            service: step.service,
            deploymentId: step.deploymentId,
            step: step.step,
            pid: step.pid,
            ...(step.ssh === undefined ? {} : { ssh: endpointKey(step.ssh) }),
            ending,
          };
          if (ending === "unreachable") {
            keptHere += 1;
            deps.logger.warn(
              { ...fields, reason },
              "a step interrupted by the agent's stop was found on a node that cannot be reached: kept, to be tried again",
            );
            if (deps.kept.get(path) === step.startedAt) continue;
          }
          const make = eventMaker(step.service, step.deploymentId, deps.source);
          await deps.publish(interruptedEvent(make, step, ending, reason));
          if (ending === "unreachable") {
            deps.kept.set(path, step.startedAt);
            continue;
          }
          deps.ledger.drop(path);
          deps.kept.delete(path);
          if (ending === "expired")
            deps.logger.warn(
              { ...fields, reason },
              "a kept step note expired: its node never answered, the step was left unchecked; note dropped",
            );
          else deps.logger.warn(fields, "a step interrupted by the agent's stop was found");
        }
      } finally {
        await host.close();
      }
      return keptHere;
    }),
  );
  return kept.reduce((a, b) => a + b, 0);
}
