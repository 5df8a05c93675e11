import {
  type BgEvent,
  createEvent,
  type EventName,
  errorInfoSchema,
  nodeId,
} from "@bluegreen/contracts";
import { deadlineFor } from "./deadlines.ts";
import { deploymentIdOf } from "./deployment-id.ts";
import { type Decision, type Draft, errorInfo, unchanged } from "./draft.ts";
import type { DecideContext, PreflightOutcome } from "./inputs.ts";
import { reject, requestOf } from "./outcomes.ts";
import { isTerminal, NodeStage, Phase } from "./phases.ts";
import type { DeploymentState } from "./state.ts";

/**
 * A new request is recorded as `requested`; pre-flight (and the lock) come next. `seq` is the
 * request's stream sequence; `previous` the rejected deployment of the same id it renews.
 */
export function newDeployment(
  event: BgEvent<"deploy.requested">,
  ctx: DecideContext,
  seq?: number,
  previous?: DeploymentState,
): Decision {
  const now = ctx.now.toISOString();
  const queued = event.data.queue ?? false;
  const state: DeploymentState = {
    v: 1,
    service: event.subject,
    deploymentId: deploymentIdOf(event),
    version: event.data.version,
    phase: Phase.requested,
    requestId: event.id,
    ...(seq === undefined ? {} : { requestSeq: seq }),
    requestedAt: now,
    ...(event.data.requestedBy === undefined ? {} : { requestedBy: event.data.requestedBy }),
    ...(event.data.reason === undefined ? {} : { reason: event.data.reason }),
    queued,
    manualPromotion: event.data.manualPromotion ?? false,
    nodes: {},
    phaseSince: now,
    phases: {},
    seen: [event.id],
    // A renewed id goes on counting, so its events never reuse the ids of the rejected try.
    seq: previous?.seq ?? 0,
    updatedAt: now,
  };
  const deadline = deadlineFor(Phase.requested, undefined, ctx.now, { queued });
  if (deadline !== undefined) state.deadline = deadline;
  return {
    state,
    commands: [{ kind: "preflight" }],
    note: `deploy of ${state.version} requested${queued ? " (may queue)" : ""}${previous === undefined ? "" : " again (the id was only rejected)"}`,
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
    ...(d.state.deadline === undefined ? {} : { deadline: d.state.deadline.at }),
  });
  return d.done(`lock taken; deploying ${s.version} to ${plan.targetColor}`);
}

/** The events that close a deployment (kept in `outcome.data`, answered again on a repeat). */
const CLOSING: readonly string[] = [
  "deploy.succeeded",
  "deploy.failed",
  "deploy.rejected",
  "deploy.rolled_back",
  "deploy.aborted",
];

/**
 * A `deploy.requested` whose deployment id is already stored: a deployment id runs once, for
 * ever, and every request is answered.
 * - the same stream message again (a redelivery; or no sequence given): nothing to do;
 * - the deployment was only rejected: the id is free again, the request starts afresh;
 * - it ended otherwise: its closing event is published again (same type and data) with the id
 *   `<deploymentId>.again-<seq>.<event>`, so a redelivery of this repeat is dropped by the
 *   stream and a later repeat is answered again;
 * - it is running: an `agent.rejected` (BG_ERR_DEPLOY_IN_PROGRESS) naming the request and the
 *   phase; the deployment goes on and closes as usual.
 * The state never changes (a rejected id renewed aside).
 */
export function onRepeatRequest(
  state: DeploymentState,
  event: BgEvent<"deploy.requested">,
  ctx: DecideContext,
  seq: number | undefined,
): Decision {
  // Without its stream sequence a redelivery cannot be told from a repeat: nothing to do.
  if (seq === undefined || state.requestSeq === seq)
    return unchanged(state, "request already recorded");
  if (state.phase === Phase.rejected) return newDeployment(event, ctx, seq, state);
  const tag = `again-${seq}`;
  const outcome = state.outcome;
  if (isTerminal(state.phase) && outcome?.data !== undefined && CLOSING.includes(outcome.event)) {
    const name = outcome.event as EventName;
    const replay = createEvent(name, {
      service: state.service,
      source: ctx.source,
      deploymentId: state.deploymentId,
      id: `${state.deploymentId}.${tag}.${name}`,
      time: ctx.now,
      data: outcome.data as never,
    }) as BgEvent;
    return {
      state,
      commands: [{ kind: "publish", event: replay, replay: true }],
      note: `deployment already ${state.phase}: its ${name} answered again`,
      changed: false,
    };
  }
  const error = errorInfoSchema.parse(
    isTerminal(state.phase)
      ? errorInfo("BG_ERR_DEPLOY_WRONG_PHASE", {
          deploymentId: state.deploymentId,
          phase: state.phase,
          action: "deploy it again",
        })
      : errorInfo("BG_ERR_DEPLOY_IN_PROGRESS", {
          deploymentId: state.deploymentId,
          service: state.service,
          phase: state.phase,
        }),
  );
  const request = requestOf(event);
  const answer = createEvent("agent.rejected", {
    service: state.service,
    source: ctx.source,
    deploymentId: state.deploymentId,
    id: `${state.deploymentId}.${tag}.agent.rejected`,
    time: ctx.now,
    data: {
      code: error.code,
      message: error.message,
      issues: [],
      rejectedBy: ctx.source.slice(0, 128),
      originalSubject: request.subject.slice(0, 512),
      originalId: request.id.slice(0, 128),
      originalType: request.type.slice(0, 128),
      excerpt: request.excerpt.slice(0, 512),
    },
  }) as BgEvent;
  return {
    state,
    commands: [{ kind: "publish", event: answer }],
    note: `repeated request answered: ${error.message}`,
    changed: false,
  };
}
