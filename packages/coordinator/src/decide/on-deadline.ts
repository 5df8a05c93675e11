import { type Decision, type Draft, errorInfo, unchanged } from "./draft.ts";
import { abort, fail, reject, timeoutError } from "./outcomes.ts";
import { Phase } from "./phases.ts";

/**
 * What happens when a phase's deadline passes. A tick for a phase the deployment has left,
 * or for a deadline that was re-armed since, changes nothing.
 */
export function onDeadline(d: Draft, tick: { phase: Phase; at: string }): Decision {
  const s = d.state;
  const deadline = s.deadline;
  if (deadline === undefined || tick.phase !== s.phase || tick.at !== deadline.at)
    return unchanged(s, `stale deadline tick for ${tick.phase}`);
  if (d.ctx.now.getTime() < Date.parse(deadline.at))
    return unchanged(s, "deadline not reached yet");
  const error = timeoutError(d, s.phase);
  const plan = s.plan;
  switch (s.phase) {
    case Phase.requested:
      return reject(d, {
        code: "BG_ERR_DEPLOY_TIMEOUT",
        params: {
          deploymentId: s.deploymentId,
          phase: s.queued ? "queue" : "pre-flight",
          timeoutMs: deadline.timeoutMs,
        },
      });
    case Phase.deploying:
      return fail(d, { stage: "deploy", error, activeColor: plan?.activeColor });
    case Phase.readiness:
      return fail(d, { stage: "readiness", error, activeColor: plan?.activeColor });
    case Phase.smoke:
      return fail(d, { stage: "smoke", error, activeColor: plan?.activeColor });
    case Phase.awaiting_promotion:
      return abort(d, {
        by: "coordinator",
        reason: `nobody promoted within ${deadline.timeoutMs} ms`,
        phase: s.phase,
        trafficMovedBack: false,
      });
    case Phase.switching:
      // The switcher never answered. A request carries this deadline and a switcher refuses it
      // past it, but one already reloading nginx as the deadline passed may still finish: say
      // traffic may have moved, and check nginx.
      return fail(d, { stage: "switch", error, activeColor: null, trafficAtRisk: true });
    case Phase.monitoring:
      // Nobody watched: do not call it a success, do not move traffic without evidence.
      return fail(d, {
        stage: "monitor",
        error: errorInfo("BG_ERR_DEPLOY_TIMEOUT", {
          deploymentId: s.deploymentId,
          phase: "monitoring (no verdict from the monitor)",
          timeoutMs: deadline.timeoutMs,
        }),
        activeColor: plan?.targetColor ?? null,
      });
    case Phase.rolling_back:
      return fail(d, {
        stage: "rollback",
        error,
        activeColor: null,
        trafficAtRisk: !(s.rollback?.afterSuccess && s.rollback.cause === "manual"),
      });
    default:
      return unchanged(s, `no deadline in ${s.phase}`);
  }
}
