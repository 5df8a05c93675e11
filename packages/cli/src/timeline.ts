import type { AnyBgEvent, BgEvent } from "@bluegreen/contracts";

/**
 * One readable line per event, for `tail` and `deploy --wait`:
 *   2026-11-26T10:00:01.234Z  emily  d-20261126-4f2a9c  switch.done  blue → green (r8, 49 ms)
 */

const ms = (n: number | undefined) =>
  n === undefined ? "" : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
/** A measured value as a person reads it: 0.5652173913043478 → 0.565. */
const num = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(3))));
const by = (who: string | undefined) => (who === undefined ? "" : ` by ${who}`);
const why = (reason: string | undefined) => (reason === undefined ? "" : ` (${reason})`);

/** The key fields of an event, in a few words. */
export function summarize(event: AnyBgEvent): string {
  switch (event.type) {
    case "bluegreen.deploy.requested": {
      const d = event.data;
      const kind = d.kind === undefined ? "" : ` [${d.kind}${d.retryOf ? ` of ${d.retryOf}` : ""}]`;
      return `${d.version}${by(d.requestedBy)}${why(d.reason)}${d.queue ? " [queue]" : ""}${d.manualPromotion ? " [manual promotion]" : ""}${kind}`;
    }
    case "bluegreen.deploy.rejected":
      return `${event.data.version}: ${event.data.error.code}: ${event.data.error.message}`;
    case "bluegreen.deploy.started": {
      const d = event.data;
      const nodes = d.nodes.map((n) => `${n.host}:${n.port}`).join(", ");
      return `${d.version} → ${d.color} (${nodes}); serving: ${d.activeColor ?? "nothing"}${d.previousVersion ? ` ${d.previousVersion}` : ""}`;
    }
    case "bluegreen.deploy.progress": {
      const d = event.data;
      const exit = d.exitCode === undefined || d.exitCode === null ? "" : ` exit ${d.exitCode}`;
      return `${d.node} step ${d.step}/${d.steps} [${d.command.join(" ")}] ${d.status}${exit}${d.durationMs === undefined ? "" : ` ${ms(d.durationMs)}`}`;
    }
    case "bluegreen.deploy.ready":
      return `${event.data.node} (${event.data.color}) ready after ${ms(event.data.durationMs)}, ${event.data.attempts} attempt(s)`;
    case "bluegreen.deploy.failed": {
      const d = event.data;
      const risk = d.trafficAtRisk ? "  !!! TRAFFIC MAY BE ON A BAD COLOUR !!!" : "";
      return `at ${d.stage}${d.node ? ` on ${d.node}` : ""}: ${d.error.code}: ${d.error.message}${risk}`;
    }
    case "bluegreen.deploy.awaiting_promotion":
      return `${event.data.color} runs ${event.data.version} and passed smoke: waiting for \`bluegreen promote\``;
    case "bluegreen.deploy.promote_requested":
    case "bluegreen.deploy.abort_requested":
    case "bluegreen.deploy.rollback_requested":
      return `${by(event.data.by).trim() || "requested"}${why(event.data.reason)}`;
    case "bluegreen.deploy.aborted":
      return `in ${event.data.phase}${by(event.data.by)}${why(event.data.reason)}; ${event.data.trafficMovedBack ? "traffic moved back" : "traffic never moved"}`;
    case "bluegreen.deploy.succeeded":
      return `${event.data.color} serves ${event.data.version} (took ${ms(event.data.durationMs)})`;
    case "bluegreen.deploy.rolled_back": {
      const d = event.data;
      const breach = d.breach
        ? `; ${d.breach.slo} = ${d.breach.value === null ? "n/a" : num(d.breach.value)} > ${d.breach.threshold}`
        : "";
      return `${d.from} → ${d.to}${d.restoredVersion ? ` (${d.restoredVersion})` : ""}, cause ${d.cause}${breach}; in ${ms(d.timeToRollbackMs)}`;
    }
    case "bluegreen.smoke.passed":
      return `${event.data.node} (${event.data.color} ${event.data.version}): ${event.data.checks.length} check(s) passed`;
    case "bluegreen.smoke.failed": {
      const failed = event.data.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.name}${c.message ? `: ${c.message}` : ""}`);
      return `${event.data.node} (${event.data.color} ${event.data.version}): ${failed.join("; ") || event.data.error.message}`;
    }
    case "bluegreen.switch.requested":
      return `→ ${event.data.to} (${event.data.reason}, fence r${event.data.expectedRevision})${by(event.data.by)}`;
    case "bluegreen.switch.done": {
      const d = event.data;
      return `${d.from ?? "?"} → ${d.to} (${d.reason}, r${d.revision}, ${d.changed ? "reloaded" : "unchanged"}, ${ms(d.timings.totalMs)})`;
    }
    case "bluegreen.switch.failed":
      return `→ ${event.data.to} failed at ${event.data.stage}: ${event.data.error.message}; ${event.data.restored ? "restored" : "NOT restored"}, serving ${event.data.activeColor ?? "?"}`;
    case "bluegreen.switch.drift":
      return `${event.data.file}: recorded ${event.data.recorded ?? "-"}, found ${event.data.found ?? "-"}; ${event.data.action}`;
    case "bluegreen.monitor.started":
      return `watching ${event.data.color} for ${ms(event.data.windowMs)} (${event.data.source})${event.data.resumed ? " resumed" : ""}`;
    case "bluegreen.monitor.passed":
      return `${event.data.color}: ${event.data.checks} checks, ${event.data.warnings} warning(s), ${event.data.inconclusive} inconclusive`;
    case "bluegreen.monitor.stopped":
      return `${event.data.color}: ${event.data.reason}`;
    case "bluegreen.slo.warning":
      return `${event.data.slo} on ${event.data.color} = ${num(event.data.value)} > ${event.data.threshold}`;
    case "bluegreen.slo.breached":
      return `${event.data.slo} on ${event.data.color} = ${num(event.data.value)} > ${event.data.threshold} (${event.data.breaches}/${event.data.limit}) → rollback`;
    case "bluegreen.slo.inconclusive":
      return `${event.data.slo} on ${event.data.color}: ${event.data.reason} (${event.data.count}/${event.data.limit})${event.data.limitReached ? ` → ${event.data.action ?? "limit reached"}` : ""}`;
    case "bluegreen.config.applied":
      return `revision ${event.data.revision} sha256 ${event.data.sha256.slice(0, 12)}${by(event.data.by)}`;
    case "bluegreen.freeze.set":
      return `${event.data.scope === "all" ? "every service" : event.subject} frozen${by(event.data.by)} until ${event.data.until ?? "lifted"}${why(event.data.reason)}`;
    case "bluegreen.freeze.lifted":
      return `${event.data.scope === "all" ? "every service" : event.subject} unfrozen${by(event.data.by)}${why(event.data.reason)}`;
    case "bluegreen.agent.rejected":
      return `${event.data.code}: ${event.data.message} [${event.data.rejectedBy}]`;
    case "bluegreen.agent.heartbeat":
      return `${event.data.role}/${event.data.agentId} ${event.data.state}`;
    case "bluegreen.agent.stale":
      return `${event.data.role}/${event.data.agentId} on ${event.data.host} silent for ${Math.round(event.data.silentMs / 1000)} s`;
    case "bluegreen.audit.checkpoint":
      return `#${event.data.index} seq ${event.data.firstSeq}..${event.data.lastSeq} (${event.data.count} event(s)) chain ${event.data.chain.slice(0, 12)} key ${event.data.keyId}`;
  }
}

export interface TimelineRow {
  time: string;
  service: string;
  deployment: string;
  event: string;
  summary: string;
}

export function timelineRow(event: BgEvent): TimelineRow {
  return {
    time: event.time,
    service: event.subject,
    deployment: event.deploymentid ?? "-",
    event: event.type.replace(/^bluegreen\./, ""),
    summary: summarize(event as AnyBgEvent),
  };
}

export function formatTimeline(event: BgEvent): string {
  const r = timelineRow(event);
  return `${r.time}  ${r.service.padEnd(12)}  ${r.deployment.padEnd(20)}  ${r.event.padEnd(25)}  ${r.summary}`;
}
