// The app's Prometheus metrics, in a registry of its own (so several apps can live in one
// process, as in tests).

import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** 5 ms to 10 s, fine enough around the usual SLO thresholds (250 ms, 1 s, 5 s). */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4,
  5, 6, 7.5, 10,
];

export interface AppMetrics {
  readonly registry: Registry;
  observe(method: string, path: string, status: number, seconds: number): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, path and status (excluding /metrics and /admin)",
    labelNames: ["method", "path", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, path and status",
    labelNames: ["method", "path", "status"] as const,
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });
  return {
    registry,
    observe(method, path, status, seconds) {
      const labels = { method, path, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
