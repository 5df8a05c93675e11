import { Phase } from "./phases.ts";
import type { Deadline, Plan } from "./state.ts";

/**
 * Every phase but the terminal ones has a deadline, computed from the definition's timeouts
 * (copied into the plan at pre-flight) plus a grace period, so that the agent doing the work
 * reports its own, more precise failure first. `decide` says what happens when one passes.
 */
export const DEADLINE_GRACE_MS = 5_000;
/** How long a recorded request may wait for pre-flight (a coordinator busy or restarting). */
export const PREFLIGHT_TIMEOUT_MS = 60_000;
/** How long a `--queue` request may wait for the service lock. */
export const QUEUE_TIMEOUT_MS = 30 * 60_000;
/** Extra time for the monitor to start watching after the switch. */
export const MONITOR_START_GRACE_MS = 30_000;

export function timeoutFor(
  phase: Phase,
  plan: Plan | undefined,
  opts: { queued?: boolean; monitorUntil?: string | undefined; now?: Date } = {},
): number | undefined {
  if (phase === Phase.requested) return opts.queued ? QUEUE_TIMEOUT_MS : PREFLIGHT_TIMEOUT_MS;
  if (plan === undefined) return undefined;
  const t = plan.timeouts;
  switch (phase) {
    case Phase.deploying:
      // Steps, then readiness: an agent that reports no step progress is still covered.
      return t.deployMs + t.readinessMs + DEADLINE_GRACE_MS;
    case Phase.readiness:
      return t.readinessMs + DEADLINE_GRACE_MS;
    case Phase.smoke:
      return t.smokeMs + DEADLINE_GRACE_MS;
    case Phase.awaiting_promotion:
      return t.promotionMs;
    case Phase.switching:
    case Phase.rolling_back:
      return t.switchMs + DEADLINE_GRACE_MS;
    case Phase.monitoring: {
      if (opts.monitorUntil !== undefined && opts.now !== undefined) {
        const left = Date.parse(opts.monitorUntil) - opts.now.getTime();
        return Math.max(0, left) + t.monitorIntervalMs + DEADLINE_GRACE_MS;
      }
      return t.monitorWindowMs + t.monitorIntervalMs + MONITOR_START_GRACE_MS;
    }
    default:
      return undefined;
  }
}

export function deadlineFor(
  phase: Phase,
  plan: Plan | undefined,
  now: Date,
  opts: { queued?: boolean; monitorUntil?: string | undefined } = {},
): Deadline | undefined {
  const timeoutMs = timeoutFor(phase, plan, { ...opts, now });
  if (timeoutMs === undefined) return undefined;
  return { phase, at: new Date(now.getTime() + timeoutMs).toISOString(), timeoutMs };
}
