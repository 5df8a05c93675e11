import { BgError, type BgEvent, createEvent, errorInfoSchema } from "@bluegreen/contracts";
import type { ConsumedEvent, LockOutcome, PreflightOutcome } from "./core/inputs.ts";
import { busy, preflight } from "./core/preflight.ts";
import type { DeploymentState } from "./core/state.ts";
import type { FactReader } from "./facts.ts";
import type { Leases } from "./lock.ts";

/**
 * What the shell gathers for `decide` before it can answer: pre-flight (the facts, then the
 * service lock) and the lock for a rollback after success. I/O here, decisions in core/.
 */
export interface GatherDeps {
  facts: FactReader;
  locks: Leases;
  requireHeartbeats: boolean;
  heartbeatMaxAgeMs: number;
  now: Date;
  /** The phase of a deployment this coordinator runs (for the "busy" message). */
  phaseOf: (service: string, deploymentId: string) => string | undefined;
}

export async function preflightOutcome(
  state: DeploymentState,
  deps: GatherDeps,
): Promise<PreflightOutcome> {
  const [definition, active, agents] = await Promise.all([
    deps.facts.definition(state.service),
    deps.facts.active(state.service),
    deps.requireHeartbeats ? deps.facts.agents() : Promise.resolve([]),
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
    {
      requireHeartbeats: deps.requireHeartbeats,
      heartbeatMaxAgeMs: deps.heartbeatMaxAgeMs,
      now: deps.now,
    },
  );
  if (!outcome.ok) return outcome;
  const lock = await deps.locks.acquire(state.service, state.deploymentId);
  if (lock.acquired) return outcome;
  return busy(state.service, lock.holder, deps.phaseOf(state.service, lock.holder) ?? "running");
}

/**
 * The lock again, for a rollback after success, with what `decide` checks before it switches
 * back: the active record now, and the versions the previous colour's node agents report.
 */
export async function lockOutcome(state: DeploymentState, deps: GatherDeps): Promise<LockOutcome> {
  const lock = await deps.locks.acquire(state.service, state.deploymentId);
  if (!lock.acquired) {
    const phase = deps.phaseOf(state.service, lock.holder);
    return { acquired: false, holder: lock.holder, ...(phase ? { phase } : {}) };
  }
  const active = await deps.facts.active(state.service);
  const previous = state.plan?.activeColor ?? null;
  const agents = previous === null ? [] : await deps.facts.agents().catch(() => []);
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

/** The answer to an operator request for a deployment nobody knows. */
export function notFound(event: ConsumedEvent, id: string, source: string): BgEvent {
  const error = errorInfoSchema.parse(
    new BgError("BG_ERR_DEPLOY_NOT_FOUND", { deploymentId: id, service: event.subject }).toJSON(),
  );
  const name = event.type.slice("bluegreen.".length);
  return createEvent("agent.rejected", {
    service: event.subject,
    source,
    id: `rej-${event.id}`.slice(0, 128),
    ...(event.deploymentid === undefined ? {} : { deploymentId: event.deploymentid }),
    data: {
      code: error.code,
      message: error.message,
      issues: [],
      rejectedBy: source.slice(0, 128),
      originalSubject: `bluegreen.${event.subject}.${name}`,
      originalId: event.id,
      originalType: event.type,
      excerpt: JSON.stringify(event).slice(0, 512),
    },
  }) as BgEvent;
}
