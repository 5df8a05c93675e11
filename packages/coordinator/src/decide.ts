import { type Decision, Draft, unchanged } from "./decide/draft.ts";
import type { ConsumedEvent, DecideContext, Input } from "./decide/inputs.ts";
import { onDeadline } from "./decide/on-deadline.ts";
import { onMonitorReport } from "./decide/on-monitor.ts";
import { onAbort, onLock, onPromote, onRollback } from "./decide/on-operator.ts";
import { onAgentFailed, onNodeReport } from "./decide/on-prepare.ts";
import { newDeployment, onPreflight, onRepeatRequest } from "./decide/on-request.ts";
import { onSwitchAnswer } from "./decide/on-switch.ts";
import { type DeploymentState, SEEN_LIMIT } from "./decide/state.ts";

/**
 * The coordinator's pure side: `decide` and what the shell asks it besides (which deployment
 * an event is for, what to answer for one nobody knows). The parts live in `decide/`.
 */

export type { Command } from "./decide/commands.ts";
export { deploymentIdOf } from "./decide/deployment-id.ts";
export type { Decision } from "./decide/draft.ts";
export {
  CONSUMED_EVENTS,
  type ConsumedEvent,
  type DecideContext,
  type Input,
  type LockOutcome,
  type PreflightOutcome,
} from "./decide/inputs.ts";
export { isTerminal, Phase } from "./decide/phases.ts";
export {
  type AgentSeen,
  busy,
  freezeNow,
  freezeOf,
  planOf,
  preflight,
} from "./decide/preflight.ts";
export {
  type Candidate,
  deploymentOf,
  notServing,
  rollbackTarget,
  UNKNOWN_GRACE_MS,
  type UnknownAnswer,
  unknownDeployment,
} from "./decide/routing.ts";
export {
  NODE_AGENT_SOURCE,
  nodeOfEvent,
  type SenderVerdict,
  senderVerdict,
} from "./decide/sender.ts";
export type { DeploymentState } from "./decide/state.ts";

/**
 * The coordinator's decisions: (deployment state, input, now) → (state, commands, deadline).
 * Pure: no I/O, no clock but `ctx.now`. Every (phase, input) pair has an answer; an input
 * that does not fit the phase changes nothing and says why.
 */
export function decide(
  state: DeploymentState | undefined,
  input: Input,
  ctx: DecideContext,
): Decision {
  if (state === undefined) {
    if (input.kind === "event" && input.event.type === "bluegreen.deploy.requested")
      return newDeployment(input.event, ctx, input.seq);
    return unchanged(undefined, "no such deployment");
  }
  // A deployment id runs once: a request for a known one is answered from what is stored.
  if (input.kind === "event" && input.event.type === "bluegreen.deploy.requested")
    return onRepeatRequest(state, input.event, ctx, input.seq);
  if (input.kind === "event" && state.seen.includes(input.event.id))
    return unchanged(state, `duplicate event ${input.event.id}`);
  const decision = route(new Draft(state, ctx), input);
  if (input.kind === "event" && decision.changed && decision.state !== undefined) {
    const seen = [...decision.state.seen, input.event.id].slice(-SEEN_LIMIT);
    decision.state = { ...decision.state, seen };
  }
  return decision;
}

function route(d: Draft, input: Input): Decision {
  switch (input.kind) {
    case "deadline":
      return onDeadline(d, input);
    case "preflight":
      return onPreflight(d, input.outcome);
    case "lock":
      return onLock(d, input.outcome);
    case "event":
      return onEvent(d, input.event);
  }
}

function onEvent(d: Draft, event: ConsumedEvent): Decision {
  switch (event.type) {
    case "bluegreen.deploy.progress":
    case "bluegreen.deploy.ready":
    case "bluegreen.smoke.passed":
    case "bluegreen.smoke.failed":
      return onNodeReport(d, event);
    case "bluegreen.deploy.requested":
      return unchanged(d.state, "request already recorded");
    case "bluegreen.deploy.promote_requested":
      return onPromote(d, event);
    case "bluegreen.deploy.abort_requested":
      return onAbort(d, event);
    case "bluegreen.deploy.rollback_requested":
      return onRollback(d, event);
    case "bluegreen.deploy.failed":
      return onAgentFailed(d, event);
    case "bluegreen.switch.done":
    case "bluegreen.switch.failed":
      return onSwitchAnswer(d, event);
    case "bluegreen.monitor.started":
    case "bluegreen.monitor.passed":
    case "bluegreen.slo.breached":
    case "bluegreen.slo.inconclusive":
      return onMonitorReport(d, event);
  }
}
