import { type BgEvent, nodeId } from "@bluegreen/contracts";
import { deadlineFor } from "./deadlines.ts";
import { deploymentIdOf } from "./deployment-id.ts";
import { type Decision, type Draft, unchanged } from "./draft.ts";
import type { DecideContext, PreflightOutcome } from "./inputs.ts";
import { reject } from "./outcomes.ts";
import { isTerminal, NodeStage, Phase } from "./phases.ts";
import type { DeploymentState } from "./state.ts";

/** A new request is recorded as `requested`; pre-flight (and the lock) come next. */
export function newDeployment(event: BgEvent<"deploy.requested">, ctx: DecideContext): Decision {
  const now = ctx.now.toISOString();
  const queued = event.data.queue ?? false;
  const state: DeploymentState = {
    v: 1,
    service: event.subject,
    deploymentId: deploymentIdOf(event),
    version: event.data.version,
    phase: Phase.requested,
    requestId: event.id,
    requestedAt: now,
    ...(event.data.requestedBy === undefined ? {} : { requestedBy: event.data.requestedBy }),
    ...(event.data.reason === undefined ? {} : { reason: event.data.reason }),
    ...(event.data.kind === undefined ? {} : { kind: event.data.kind }),
    ...(event.data.retryOf === undefined ? {} : { retryOf: event.data.retryOf }),
    queued,
    manualPromotion: event.data.manualPromotion ?? false,
    nodes: {},
    phaseSince: now,
    phases: {},
    seen: [event.id],
    seq: 0,
    updatedAt: now,
  };
  const deadline = deadlineFor(Phase.requested, undefined, ctx.now, { queued });
  if (deadline !== undefined) state.deadline = deadline;
  return {
    state,
    commands: [{ kind: "preflight" }],
    note: `deploy of ${state.version} requested${queued ? " (may queue)" : ""}`,
    changed: true,
  };
}

export function onPreflight(d: Draft, outcome: PreflightOutcome): Decision {
  const s = d.state;
  if (s.phase !== Phase.requested) {
    // A late answer: the lock it took belongs to a deployment that is over, so give it back.
    if (outcome.ok && isTerminal(s.phase)) {
      d.command({ kind: "releaseLock" });
      return d.done(`pre-flight answer after the deployment ended (${s.phase}); lock released`);
    }
    return unchanged(s, `pre-flight answer ignored in ${s.phase}`);
  }
  if (!outcome.ok) {
    if (outcome.busy && s.queued)
      return unchanged(s, `queued behind deployment ${outcome.runningDeploymentId ?? "(unknown)"}`);
    return reject(d, outcome);
  }
  const plan = outcome.plan;
  const nodes = Object.fromEntries(plan.nodes.map((n) => [nodeId(n), NodeStage.deploying]));
  d.set({ plan, nodes });
  d.to(Phase.deploying);
  d.publish("deploy.started", {
    version: s.version,
    color: plan.targetColor,
    nodes: plan.nodes.map((n) => ({ host: n.host, port: n.port })),
    activeColor: plan.activeColor,
    previousVersion: plan.previousVersion,
  });
  return d.done(`lock taken; deploying ${s.version} to ${plan.targetColor}`);
}
