import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Verdict } from "./decide/verdict.ts";
import type { SourceKind } from "./measurement.ts";

/** The monitor's own metrics, served on its `/metrics` beside the process defaults. */
export interface MonitorMetrics {
  check(verdict: Verdict): void;
  sourceLatency(source: SourceKind, seconds: number): void;
  activeWatches(count: number): void;
}

export function createMonitorMetrics(registry: Registry): MonitorMetrics {
  const checks = new Counter({
    name: "bluegreen_slo_checks_total",
    help: "SLO checks by verdict (ok, breach, inconclusive)",
    labelNames: ["verdict"] as const,
    registers: [registry],
  });
  for (const verdict of ["ok", "breach", "inconclusive"]) checks.inc({ verdict }, 0);
  const latency = new Histogram({
    name: "bluegreen_source_latency_seconds",
    help: "Time for one answer from a metric source (a Prometheus query or a node scrape)",
    labelNames: ["source"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const watches = new Gauge({
    name: "bluegreen_monitor_active_watches",
    help: "Watches running in this monitor",
    registers: [registry],
  });
  return {
    check: (verdict) => checks.inc({ verdict }),
    sourceLatency: (source, seconds) => latency.observe({ source }, seconds),
    activeWatches: (count) => watches.set(count),
  };
}
