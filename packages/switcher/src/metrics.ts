import { Counter, Histogram, type Registry } from "prom-client";
import type { SwitchResult } from "./outcome.ts";

/** The switcher's own metrics, on the agent's registry (served at `/metrics`). */
export interface SwitchMetrics {
  observe(result: SwitchResult, seconds: number): void;
  nginxTestFailed(): void;
  /** Drift found: what was done about it, and when (start-up or while running). */
  drift(action: string, found: "startup" | "running"): void;
}

export function switchMetrics(registry: Registry): SwitchMetrics {
  const duration = new Histogram({
    name: "bluegreen_switch_duration_seconds",
    help: "Time from taking up a switch.requested to its answer, by result",
    labelNames: ["result"],
    buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const switches = new Counter({
    name: "bluegreen_switches_total",
    help: "Switch requests answered, by result: changed, unchanged, refused (fence, readiness, unknown service: nothing touched) or failed (restored, or not recorded)",
    labelNames: ["result"],
    registers: [registry],
  });
  const testFailures = new Counter({
    name: "bluegreen_nginx_test_failures_total",
    help: "Times the nginx test command rejected the configuration",
    registers: [registry],
  });
  const drift = new Counter({
    name: "bluegreen_switch_drift_total",
    help: "Drift found between an upstream file (or what nginx serves) and the recorded colour, by action (reapplied, adopted, reported) and when (startup, running)",
    labelNames: ["action", "while"],
    registers: [registry],
  });
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
