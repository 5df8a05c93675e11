import type { BgEvent } from "@bluegreen/contracts";
import { type Decision, type Draft, unchanged } from "./draft.ts";
import type { LockOutcome } from "./inputs.ts";
import { promote } from "./on-prepare.ts";
import { abort, beginRollback, refuse, wrongPhase } from "./outcomes.ts";
import { isPreparing, isTerminal, Phase } from "./phases.ts";

/**
 * The manual gates: promote, abort (before the switch: stop, traffic stays; after it: switch
 * back) and rollback (during the watch, or after success while this deployment's colour still
 * serves). A request that cannot be honoured is answered with a coded `agent.rejected`.
 */

export function onPromote(d: Draft, event: BgEvent<"deploy.promote_requested">): Decision {
  const s = d.state;
  if (s.phase === Phase.awaiting_promotion) return promote(d, event.data.by);
  if (s.phase === Phase.switching || s.phase === Phase.monitoring || s.phase === Phase.succeeded)
    return unchanged(s, "already promoted");
  return wrongPhase(d, event, "promote");
}

export function onAbort(d: Draft, event: BgEvent<"deploy.abort_requested">): Decision {
  const s = d.state;
  const by = event.data.by ?? "operator";
  if (s.phase === Phase.requested || isPreparing(s.phase))
    return abort(d, { by, reason: event.data.reason, phase: s.phase, trafficMovedBack: false });
  return goBack(d, "abort", event, by) ?? wrongPhase(d, event, "abort");
}

export function onRollback(d: Draft, event: BgEvent<"deploy.rollback_requested">): Decision {
  const s = d.state;
  const by = event.data.by;
  const back = goBack(d, "rollback", event, by);
  if (back !== undefined) return back;
  if (s.phase === Phase.succeeded) {
    if (s.reopen !== undefined) return unchanged(s, "a rollback is already being prepared");
    d.set({
      reopen: {
        at: event.time,
        requestId: event.id,
        requestSubject: `bluegreen.${s.service}.deploy.rollback_requested`,
        ...opt("by", by),
        ...opt("reason", event.data.reason),
      },
    });
    d.command({ kind: "acquireLock" });
    return d.done("rollback after success: taking the service lock again");
  }
  return wrongPhase(d, event, "roll back");
}

/** The lock asked for by a rollback after success. */
export function onLock(d: Draft, outcome: LockOutcome): Decision {
  const s = d.state;
  const reopen = s.reopen;
  if (s.phase !== Phase.succeeded || reopen === undefined) {
    if (outcome.acquired && isTerminal(s.phase)) {
      d.command({ kind: "releaseLock" });
      return d.done("lock answer nobody waits for; released");
    }
    return unchanged(s, "lock answer ignored");
  }
  const { reopen: _r, ...rest } = s;
  d.state = rest;
  d.set({});
  const request = {
    id: reopen.requestId,
    type: "bluegreen.deploy.rollback_requested",
    subject: reopen.requestSubject,
    excerpt: `{"type":"bluegreen.deploy.rollback_requested","id":"${reopen.requestId}"}`,
  };
  const refuseWith = (why: string): Decision => {
    if (outcome.acquired) d.command({ kind: "releaseLock" });
    return refuse(d, request, "BG_ERR_DEPLOY_WRONG_PHASE", {
      deploymentId: s.deploymentId,
      phase: s.phase,
      action: `roll back: ${why}`,
    });
  };
  if (!outcome.acquired)
    return refuse(d, request, "BG_ERR_DEPLOY_BUSY", {
      service: s.service,
      deploymentId: outcome.holder,
      phase: outcome.phase ?? "running",
    });
  const plan = s.plan;
  if (plan === undefined || plan.activeColor === null)
    return refuseWith("no colour served before this deployment");
  const active = outcome.active;
  if (active === undefined) return refuseWith("no active colour is recorded");
  if (active.record.color !== plan.targetColor || active.record.deploymentId !== s.deploymentId)
    return refuseWith(
      `the service now serves ${active.record.color}${active.record.deploymentId ? ` from ${active.record.deploymentId}` : ""}`,
    );
  const versions = outcome.previousColorVersions;
  if (versions !== undefined && plan.previousVersion !== null) {
    const other = versions.find((v) => v !== plan.previousVersion);
    if (other !== undefined)
      return refuseWith(`${plan.activeColor} runs ${other}, not ${plan.previousVersion}`);
  }
  return beginRollback(d, {
    cause: "manual",
    since: reopen.at,
    by: reopen.by,
    reason: reopen.reason,
    afterSuccess: true,
    expectedRevision: active.revision,
    requestedIn: Phase.succeeded,
  });
}

/**
 * An abort after the switch and a rollback take the same road back: while the switch is in
 * flight the request waits for its answer, during the watch traffic goes back now, and going
 * back already it changes nothing. Undefined in any other phase.
 */
function goBack(
  d: Draft,
  kind: "abort" | "rollback",
  event: { time: string; data: { reason?: string | undefined } },
  by: string | undefined,
): Decision | undefined {
  const s = d.state;
  const reason = event.data.reason;
  if (s.phase === Phase.switching) {
    if (s.pending !== undefined) return unchanged(s, `a ${s.pending.kind} is already pending`);
    d.set({ pending: { kind, at: event.time, ...opt("by", by), ...opt("reason", reason) } });
    return d.done(`${kind} requested during the switch: traffic goes back once it is done`);
  }
  if (s.phase === Phase.monitoring)
    return beginRollback(d, {
      cause: kind === "abort" ? "abort" : "manual",
      since: event.time,
      by,
      reason,
      requestedIn: s.phase,
    });
  if (s.phase === Phase.rolling_back)
    return unchanged(s, kind === "abort" ? "already going back" : "already rolling back");
  return undefined;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
