import { metricsOn } from "@bluegreen/runtime";
import type { Registry } from "prom-client";

/** The notifier's own metrics, on the agent's registry (served at `/metrics`). */
export interface NotifierMetrics {
  settled(sink: string, status: "delivered" | "failed", ageMs: number): void;
  sent(sink: string, outcome: "ok" | "retry" | "final", seconds: number): void;
  routed(sink: string): void;
  stale(): void;
  pending(sink: string, count: number): void;
}

/** What each metric means (its HELP line). */
const HELP = {
  bluegreen_notifier_deliveries_total:
    "Deliveries settled, by sink and status: delivered, or failed (a final answer, or given up after the tries or age limit)",
  bluegreen_notifier_sends_total:
    "Send attempts, by sink and outcome: ok, retry (5xx, 429, timeout, refused) or final (other 4xx)",
  bluegreen_notifier_routed_total: "Deliveries recorded for a routed event, by sink",
  bluegreen_notifier_delivery_seconds:
    "Time from a delivery's record to its settling, by sink and status",
  bluegreen_notifier_send_seconds: "One send's duration, by sink",
  bluegreen_notifier_pending: "Deliveries waiting for a send or a retry, by sink",
  bluegreen_notifier_agent_stale_total:
    "agent.stale events published (an agent's heartbeats stopped)",
} as const;
const NOTIFIER_DELIVERY_SECONDS_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];
const NOTIFIER_SEND_SECONDS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function notifierMetrics(registry: Registry, sinks: readonly string[]): NotifierMetrics {
  const m = metricsOn(registry, HELP);
  const deliveries = m.counter("bluegreen_notifier_deliveries_total", ["sink", "status"]);
  const sends = m.counter("bluegreen_notifier_sends_total", ["sink", "outcome"]);
  const routed = m.counter("bluegreen_notifier_routed_total", ["sink"]);
  const latency = m.histogram(
    "bluegreen_notifier_delivery_seconds",
    ["sink", "status"],
    NOTIFIER_DELIVERY_SECONDS_BUCKETS,
  );
  const sendTime = m.histogram(
    "bluegreen_notifier_send_seconds",
    ["sink"],
    NOTIFIER_SEND_SECONDS_BUCKETS,
  );
  const pending = m.gauge("bluegreen_notifier_pending", ["sink"]);
  const stale = m.counter("bluegreen_notifier_agent_stale_total");
  for (const sink of sinks) {
    for (const status of ["delivered", "failed"]) deliveries.inc({ sink, status }, 0);
    pending.set({ sink }, 0);
  }
  return {
    settled(sink, status, ageMs) {
      deliveries.inc({ sink, status });
      latency.observe({ sink, status }, ageMs / 1000);
    },
    sent(sink, outcome, seconds) {
      sends.inc({ sink, outcome });
      sendTime.observe({ sink }, seconds);
    },
    routed: (sink) => routed.inc({ sink }),
    stale: () => stale.inc(),
    pending: (sink, count) => pending.set({ sink }, count),
  };
}
