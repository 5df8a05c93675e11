import { metricsOn } from "@bluegreen/runtime";
import type { Registry } from "prom-client";
import type { SwitchResult } from "./outcome.ts";

/** The switcher's own metrics, on the agent's registry (served at `/metrics`). */
export interface SwitchMetrics {
  observe(result: SwitchResult, seconds: number): void;
  nginxTestFailed(): void;
  /** Drift found: what was done about it, and when (start-up or while running). */
  drift(action: string, found: "startup" | "running"): void;
}

/** What each metric means (its HELP line). */
const HELP = {
  bluegreen_switch_duration_seconds:
    "Time from taking up a switch.requested to its answer, by result",
  bluegreen_switches_total:
    "Switch requests answered, by result: changed, unchanged, refused (fence, readiness, unknown service: nothing touched) or failed (restored, or not recorded)",
  bluegreen_nginx_test_failures_total: "Times the nginx test command rejected the configuration",
  bluegreen_switch_drift_total:
    "Drift found between an upstream file (or what nginx serves) and the recorded colour, by action (reapplied, adopted, reported) and when (startup, running)",
} as const;
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function switchMetrics(registry: Registry): SwitchMetrics {
  const m = metricsOn(registry, HELP);
  const duration = m.histogram("bluegreen_switch_duration_seconds", ["result"], DURATION_BUCKETS);
  const switches = m.counter("bluegreen_switches_total", ["result"]);
  const testFailures = m.counter("bluegreen_nginx_test_failures_total");
  const drift = m.counter("bluegreen_switch_drift_total", ["action", "while"]);
  for (const result of ["changed", "unchanged", "refused", "failed"] as const) {
    switches.inc({ result }, 0);
  }
  return {
    observe(result, seconds) {
      switches.inc({ result });
      duration.observe({ result }, seconds);
    },
    nginxTestFailed: () => testFailures.inc(),
    drift: (action, found) => drift.inc({ action, while: found }),
  };
}
