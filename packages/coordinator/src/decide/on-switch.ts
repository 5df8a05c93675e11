import type { BgEvent } from "@bluegreen/contracts";
import { type Decision, type Draft, unchanged } from "./draft.ts";
import type { EventOf } from "./inputs.ts";
import { abort, beginRollback, fail } from "./outcomes.ts";
import { Phase } from "./phases.ts";

/**
 * Answers from the switcher. Only the answer to the switch this deployment has in flight
 * counts (same target colour and reason); anything else is a repeat or someone else's.
 */

type SwitchAnswer = EventOf<"switch.done" | "switch.failed">;

function answersInflight(d: Draft, event: SwitchAnswer): boolean {
  const inflight = d.state.switch;
  return (
    inflight !== undefined && event.data.to === inflight.to && event.data.reason === inflight.reason
  );
}

export function onSwitchAnswer(d: Draft, event: SwitchAnswer): Decision {
  const s = d.state;
  if (!answersInflight(d, event))
    return unchanged(s, `${event.type} to ${event.data.to} answers no switch in flight`);
  const { switch: _done, ...rest } = s;
  d.state = rest;
  if (event.type === "bluegreen.switch.done") {
    return s.phase === Phase.switching ? promoted(d, event) : rolledBack(d, event);
  }
  if (s.phase === Phase.switching) {
    return fail(d, {
      stage: "switch",
      error: event.data.error,
      activeColor: event.data.activeColor,
      trafficAtRisk: !event.data.restored,
    });
  }
  const rollback = s.rollback;
  return fail(d, {
    stage: "rollback",
    error: event.data.error,
    activeColor: event.data.activeColor,
    trafficAtRisk: !(rollback?.afterSuccess && rollback.cause === "manual"),
  });
}

function promoted(d: Draft, event: BgEvent<"switch.done">): Decision {
  d.set({ switchedRevision: event.data.revision, switchedAt: event.time });
  d.to(Phase.monitoring);
  const pending = d.state.pending;
  if (pending !== undefined) {
    const { pending: _p, ...rest } = d.state;
    d.state = rest;
    return beginRollback(d, {
      cause: pending.kind === "abort" ? "abort" : "manual",
      since: pending.at,
      by: pending.by,
      reason: pending.reason,
      requestedIn: Phase.switching,
    });
  }
  return d.done(`${event.data.to} serves (revision ${event.data.revision}); monitoring`);
}

function rolledBack(d: Draft, event: BgEvent<"switch.done">): Decision {
  const s = d.state;
  const rollback = s.rollback;
  const plan = s.plan;
  if (rollback === undefined || plan === undefined) return d.done("rollback without a record");
  if (rollback.cause === "abort") {
    return abort(d, {
      by: rollback.by ?? "operator",
      reason: rollback.reason,
      phase: rollback.requestedIn ?? Phase.monitoring,
      trafficMovedBack: true,
    });
  }
  const timeToRollbackMs = Math.max(0, Date.parse(event.time) - Date.parse(rollback.since));
  d.command({ kind: "releaseLock" });
  d.to(Phase.rolled_back);
  d.set({ outcome: { at: d.nowIso, event: "deploy.rolled_back" } });
  d.publish("deploy.rolled_back", {
    version: s.version,
    from: plan.targetColor,
    to: rollback.to,
    restoredVersion: plan.previousVersion,
    cause: rollback.cause,
    ...(rollback.breach === undefined ? {} : { breach: rollback.breach }),
    timeToRollbackMs,
  });
  return d.done(`rolled back to ${rollback.to} in ${timeToRollbackMs} ms (${rollback.cause})`);
}
