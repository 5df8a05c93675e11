import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The notifier's own metrics, on the agent's registry (served at `/metrics`). */
export interface NotifierMetrics {
  settled(sink: string, status: "delivered" | "failed", ageMs: number): void;
  sent(sink: string, outcome: "ok" | "retry" | "final", seconds: number): void;
  routed(sink: string): void;
  stale(): void;
  pending(sink: string, count: number): void;
}

export function notifierMetrics(registry: Registry, sinks: readonly string[]): NotifierMetrics {
  const deliveries = new Counter({
    name: "bluegreen_notifier_deliveries_total",
    help: "Deliveries settled, by sink and status: delivered, or failed (a final answer, or given up after the tries or age limit)",
    labelNames: ["sink", "status"],
    registers: [registry],
  });
  const sends = new Counter({
    name: "bluegreen_notifier_sends_total",
    help: "Send attempts, by sink and outcome: ok, retry (5xx, 429, timeout, refused) or final (other 4xx)",
    labelNames: ["sink", "outcome"],
    registers: [registry],
  });
  const routed = new Counter({
    name: "bluegreen_notifier_routed_total",
    help: "Deliveries recorded for a routed event, by sink",
    labelNames: ["sink"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "bluegreen_notifier_delivery_seconds",
    help: "Time from a delivery's record to its settling, by sink and status",
    labelNames: ["sink", "status"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const sendTime = new Histogram({
    name: "bluegreen_notifier_send_seconds",
    help: "One send's duration, by sink",
    labelNames: ["sink"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const pending = new Gauge({
    name: "bluegreen_notifier_pending",
    help: "Deliveries waiting for a send or a retry, by sink",
    labelNames: ["sink"],
    registers: [registry],
  });
  const stale = new Counter({
    name: "bluegreen_notifier_agent_stale_total",
    help: "agent.stale events published (an agent's heartbeats stopped)",
    registers: [registry],
  });
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
