import { type ErrorCode, formatErrorMessage } from "@bluegreen/contracts";
import type { Logger } from "@bluegreen/runtime";
import type { WatchState } from "./decide/state.ts";
import type { Decision, PendingEvent } from "./decide.ts";
import { sourceKindOf } from "./measurement.ts";
import type { MonitorMetrics } from "./metrics.ts";

/**
 * What a watch's transition tells the operator and the metrics: the watch started, resumed,
 * stopped or ended; one debug line per check round with every SLO's verdict; each event a user
 * must know, inconclusive checks with the catalogue code an operator can look up.
 */

export function logTransition(
  logger: Logger,
  metrics: MonitorMetrics,
  before: WatchState | undefined,
  decision: Decision,
  now: number,
): void {
  const after = decision.state;
  if (after === undefined) return;
  const events = decision.commands.flatMap((c) => (c.kind === "publish" ? [c.event] : []));
  const round =
    before !== undefined &&
    before.deploymentId === after.deploymentId &&
    after.checks === before.checks + 1;
  if (round) logRound(logger, metrics, after);
  for (const event of events) logEvent(logger, after, event, now);
  if (before?.status === "watching" && before.deploymentId === after.deploymentId) {
    if (after.status === "passed" || after.status === "breached" || after.status === "inconclusive")
      logger.info(
        { status: after.status, reason: after.endReason, checks: after.checks },
        after.status === "passed" ? "watch passed" : "watch ended with a verdict",
      );
  }
}

function logRound(logger: Logger, metrics: MonitorMetrics, after: WatchState): void {
  const verdicts: Record<string, string> = {};
  for (const slo of after.monitor.slos) {
    const last = after.slos[slo.name]?.last;
    if (last === undefined) continue;
    metrics.check(last.verdict);
    verdicts[slo.name] =
      last.verdict === "inconclusive"
        ? `inconclusive (${last.reason})`
        : `${last.verdict}${last.value === null || last.reason !== undefined ? "" : ` ${last.value}`}`;
  }
  logger.debug({ check: after.checks, verdicts }, "check round");
}

function logEvent(logger: Logger, s: WatchState, event: PendingEvent, now: number): void {
  const source = sourceKindOf(s.monitor);
  switch (event.name) {
    case "monitor.started": {
      const resumed = event.data.resumed === true;
      logger.info(
        {
          color: s.color,
          instances: s.instances,
          source,
          deadline: new Date(s.deadline).toISOString(),
          remainingMs: Math.max(0, s.deadline - now),
          checks: s.checks,
          resumed,
        },
        resumed ? "watch resumed" : "watch started",
      );
      return;
    }
    case "monitor.stopped":
      logger.info(
        {
          reason: event.data.reason,
          stoppedDeploymentId: event.deploymentId,
          checks: event.data.checks,
        },
        "watch stopped",
      );
      return;
    case "monitor.passed":
      return;
    case "slo.warning":
    case "slo.breached":
      logger[event.name === "slo.breached" ? "warn" : "info"](
        { event: event.name, ...event.data },
        event.name,
      );
      return;
    case "slo.inconclusive": {
      const d = event.data;
      const code: ErrorCode | undefined = d.limitReached
        ? "BG_ERR_MONITOR_INCONCLUSIVE_LIMIT"
        : d.reason === "unreachable" || d.reason === "timeout"
          ? "BG_ERR_MONITOR_SOURCE_UNREACHABLE"
          : d.reason === "error"
            ? "BG_ERR_MONITOR_QUERY_FAILED"
            : undefined;
      const why = d.detail ?? d.reason;
      const message =
        code === undefined
          ? `SLO ${d.slo} had nothing to judge: ${why}`
          : formatErrorMessage(code, {
              slo: d.slo,
              count: d.count,
              limit: d.limit,
              source,
              reason: why,
            });
      logger.warn({ event: event.name, ...(code === undefined ? {} : { code }), ...d }, message);
      return;
    }
  }
}
