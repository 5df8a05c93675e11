import { type Decision, Draft, unchanged } from "./draft.ts";
import type { DecideContext, Input } from "./inputs.ts";
import { onDeadline } from "./on-deadline.ts";
import { onMonitorReport } from "./on-monitor.ts";
import { onAbort, onLock, onPromote, onRollback } from "./on-operator.ts";
import { onAgentFailed, onNodeReport } from "./on-prepare.ts";
import { newDeployment, onPreflight } from "./on-request.ts";
import { onSwitchAnswer } from "./on-switch.ts";
import { type DeploymentState, SEEN_LIMIT } from "./state.ts";

export type { Decision } from "./draft.ts";

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
      return newDeployment(input.event, ctx);
    return unchanged(undefined, "no such deployment");
  }
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
      break;
  }
  const event = input.event;
  switch (event.type) {
    case "bluegreen.deploy.requested":
      return unchanged(d.state, "request already recorded");
    case "bluegreen.deploy.progress":
    case "bluegreen.deploy.ready":
    case "bluegreen.smoke.passed":
    case "bluegreen.smoke.failed":
      return onNodeReport(d, event);
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
    case "bluegreen.deploy.promote_requested":
      return onPromote(d, event);
    case "bluegreen.deploy.abort_requested":
      return onAbort(d, event);
    case "bluegreen.deploy.rollback_requested":
      return onRollback(d, event);
  }
}
