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
