import type { Color, SwitcherConfig } from "@bluegreen/contracts";

/**
 * At start-up, each owned upstream file is compared with the recorded active colour. What to
 * do about a difference is a pure function of the `on_drift` setting and the two colours.
 */

export type DriftMode = SwitcherConfig["on_drift"];

export const DriftAction = {
  /** File and record agree (or neither exists yet): nothing to do. */
  none: "none",
  /** Write the recorded colour's file, test, reload, verify. */
  reapply: "reapply",
  /** Record the file's colour as the active one. */
  adopt: "adopt",
  /** Only report (an event and a log line). */
  report: "report",
} as const;
export type DriftAction = (typeof DriftAction)[keyof typeof DriftAction];

export function driftAction(
  mode: DriftMode,
  recorded: Color | null,
  found: Color | null,
): DriftAction {
  if (recorded === found) return DriftAction.none;
  if (mode === "report") return DriftAction.report;
  // Nothing recorded yet: there is nothing to re-apply, the file is the only truth there is.
  if (recorded === null) return DriftAction.adopt;
  // A file that names no colour (missing, or listing other servers) cannot be adopted.
  if (found === null) return mode === "reapply" ? DriftAction.reapply : DriftAction.report;
  return mode === "reapply" ? DriftAction.reapply : DriftAction.adopt;
}

/** The longest wait between two tries of a repair that keeps failing. */
export const DRIFT_RETRY_MAX_MS = 60_000;

/**
 * A drift that stays as it was reported while running: `report` leaves it (never retried),
 * a repair that failed is tried again after a wait that doubles with each failure — one
 * `drift_interval` first, at most DRIFT_RETRY_MAX_MS — so a broken nginx is not reloaded in
 * a loop, and a repair that failed because a hand edit was still being written succeeds at
 * the next try.
 */
export interface StandingDrift {
  /** recorded/found/served: another drift than this one is acted on at once. */
  key: string;
  /** Found in what nginx serves (file and record agree): see Switcher.driftGone. */
  served: boolean;
  failures: number;
  /** When the repair may be tried again (epoch ms; Infinity: never, as with `report`). */
  retryAt: number;
}

export function standingAfter(
  previous: StandingDrift | undefined,
  key: string,
  opts: { mode: DriftMode; nowMs: number; intervalMs: number; served: boolean },
): StandingDrift {
  const failures = previous?.key === key ? previous.failures + 1 : 1;
  const wait = Math.min(opts.intervalMs * 2 ** (failures - 1), DRIFT_RETRY_MAX_MS);
  return {
    key,
    served: opts.served,
    failures,
    retryAt: opts.mode === "report" ? Number.POSITIVE_INFINITY : opts.nowMs + wait,
  };
}

/**
 * Whether a check at `nowMs` may act on the drift left standing (else it only looks). Half an
 * interval early counts: the periodic tick that comes about when the wait ends is the retry.
 */
export function retryDue(standing: StandingDrift, nowMs: number, intervalMs: number): boolean {
  return nowMs + intervalMs / 2 >= standing.retryAt;
}
