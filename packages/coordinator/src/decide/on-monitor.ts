import { type Decision, type Draft, deferred, unchanged } from "./draft.ts";
import type { EventOf } from "./inputs.ts";
import { beginRollback, succeed } from "./outcomes.ts";
import { Phase } from "./phases.ts";

/** Verdicts of the SLO watch on the colour this deployment promoted. */

type MonitorReport = EventOf<
  "monitor.started" | "monitor.passed" | "slo.breached" | "slo.inconclusive"
>;

/** Only an inconclusive check at its limit, with `rollback` as the action, asks for anything. */
function asksForAction(event: MonitorReport): boolean {
  if (event.type !== "bluegreen.slo.inconclusive") return true;
  return event.data.limitReached && event.data.action === "rollback";
}

export function onMonitorReport(d: Draft, event: MonitorReport): Decision {
  const s = d.state;
  if (event.data.color !== s.plan?.targetColor)
    return unchanged(s, `${event.type} about ${event.data.color} ignored`);
  if (!asksForAction(event)) return unchanged(s, "inconclusive check below its limit");
  if (s.phase === Phase.switching)
    return deferred(s, `${event.type} before switch.done was handled; retry later`);
  if (s.phase !== Phase.monitoring) return unchanged(s, `${event.type} ignored in ${s.phase}`);
  switch (event.type) {
    case "bluegreen.monitor.started":
      d.set({ monitorUntil: event.data.deadline });
      d.rearm();
      return d.done(`monitor watching until ${event.data.deadline}`);
    case "bluegreen.monitor.passed":
      return succeed(d);
    case "bluegreen.slo.breached":
      return beginRollback(d, {
        cause: "slo_breach",
        since: event.time,
        breach: {
          slo: event.data.slo,
          value: event.data.value,
          threshold: event.data.threshold,
          ...(event.data.query === undefined ? {} : { query: event.data.query }),
        },
        requestedIn: Phase.monitoring,
      });
    case "bluegreen.slo.inconclusive":
      return beginRollback(d, {
        cause: "inconclusive_limit",
        since: event.time,
        requestedIn: Phase.monitoring,
      });
  }
}
