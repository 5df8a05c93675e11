import type { BgEvent } from "@bluegreen/contracts";
import { DUPLICATE_WINDOW_MS, type StoredRecord } from "@bluegreen/runtime";
import {
  busy,
  type Command,
  type DeploymentState,
  type Input,
  isTerminal,
  type LockOutcome,
  type PreflightOutcome,
  preflight,
} from "./decide.ts";
import type { FactReader } from "./facts.ts";
import type { Leases } from "./lock.ts";
import type { CoordinatorMetrics } from "./metrics.ts";

/**
 * What `decide`'s commands do to the world: publish an event, release the service lock, and
 * gather what `decide` asked for (pre-flight: the facts, then the lock; the lock again for a
 * rollback after success), handed back as the next input. I/O here, decisions in decide/.
 */
export interface EffectsDeps {
  facts: FactReader;
  locks: Leases;
  publish: (event: BgEvent) => Promise<unknown>;
  /** Whether the stream holds this event already (the last message on its subject). */
  wasPublished: (event: BgEvent) => Promise<boolean>;
  metrics: CoordinatorMetrics;
  requireHeartbeats: boolean;
  heartbeatMaxAgeMs: number;
  clock: () => Date;
  /** The phase of a deployment this coordinator runs (for the "busy" message). */
  phaseOf: (service: string, deploymentId: string) => string | undefined;
  /** A service lock was released: a queued request of the service may go now. */
  released: (service: string) => void;
}

/**
 * How an outbox read back from KV (after a crash or a change of leader) is finished: written
 * within the stream's duplicate window, it is carried out again (the stream drops events it
 * already has); older, each event is looked up in the stream first; a deployment that ended
 * long ago is not touched any more.
 */
export type Replay = "all" | "unpublished" | "none";

export function replayOf(state: DeploymentState, now: Date): { replay: Replay; ageMs: number } {
  const ageMs = now.getTime() - Date.parse(state.updatedAt);
  const recent = ageMs < DUPLICATE_WINDOW_MS - 10_000;
  const replay = recent ? "all" : isTerminal(state.phase) ? "none" : "unpublished";
  return { replay, ageMs };
}

export class Effects {
  constructor(private readonly deps: EffectsDeps) {}

  /** Carries out one command; pre-flight and the lock answer with the input they feed back. */
  async carryOut(command: Command, state: DeploymentState): Promise<Input | undefined> {
    switch (command.kind) {
      case "publish":
        await this.deps.publish(command.event);
        if (command.event.type === "bluegreen.deploy.rolled_back" && command.replay !== true) {
          const ms = (command.event.data as { timeToRollbackMs: number }).timeToRollbackMs;
          this.deps.metrics.timeToRollback.observe(ms / 1000);
        }
        return undefined;
      case "releaseLock":
        await this.deps.locks.release(state.service, state.deploymentId);
        this.deps.released(state.service);
        return undefined;
      case "preflight":
        return { kind: "preflight", outcome: await this.preflight(state) };
      case "acquireLock":
        return { kind: "lock", outcome: await this.lock(state) };
    }
  }

  /** The commands of a stored outbox still to carry out (see `replayOf`). */
  async pendingToFinish(stored: StoredRecord<DeploymentState, Command>): Promise<Command[]> {
    const { replay } = replayOf(stored.state, this.deps.clock());
    if (replay === "none") return [];
    const todo: Command[] = [];
    for (const command of stored.pending) {
      if (
        command.kind === "publish" &&
        replay === "unpublished" &&
        (await this.deps.wasPublished(command.event))
      )
        continue;
      todo.push(command);
    }
    return todo;
  }

  /** Pre-flight: the definition, the active colour and the heartbeats, then the service lock. */
  async preflight(state: DeploymentState): Promise<PreflightOutcome> {
    const { facts, locks, requireHeartbeats, heartbeatMaxAgeMs } = this.deps;
    const [definition, active, agents] = await Promise.all([
      facts.definition(state.service),
      facts.active(state.service),
      requireHeartbeats ? facts.agents() : Promise.resolve([]),
    ]);
    const outcome = preflight(
      {
        service: state.service,
        version: state.version,
        manualPromotion: state.manualPromotion,
        definition,
        active,
        agents,
      },
      { requireHeartbeats, heartbeatMaxAgeMs, now: this.deps.clock() },
    );
    if (!outcome.ok) return outcome;
    const lock = await locks.acquire(state.service, state.deploymentId);
    if (lock.acquired) return outcome;
    const phase = this.deps.phaseOf(state.service, lock.holder);
    return busy(state.service, lock.holder, phase ?? "running");
  }

  /**
   * The lock again, for a rollback after success, with what `decide` checks before it switches
   * back: the active record now, and the versions the previous colour's node agents report.
   */
  async lock(state: DeploymentState): Promise<LockOutcome> {
    const { facts, locks } = this.deps;
    const lock = await locks.acquire(state.service, state.deploymentId);
    if (!lock.acquired) {
      const phase = this.deps.phaseOf(state.service, lock.holder);
      return { acquired: false, holder: lock.holder, ...(phase ? { phase } : {}) };
    }
    const active = await facts.active(state.service);
    const previous = state.plan?.activeColor ?? null;
    const agents = previous === null ? [] : await facts.agents().catch(() => []);
    const versions = agents
      .filter((a) => a.role === "node-agent" && a.services.includes(state.service))
      .flatMap((a) => (a.color === previous ? (a.nodes ?? []) : []))
      .flatMap((n) => (n.version === undefined ? [] : [n.version]));
    return {
      acquired: true,
      ...(active === undefined ? {} : { active }),
      ...(versions.length === 0 ? {} : { previousColorVersions: versions }),
    };
  }
}
