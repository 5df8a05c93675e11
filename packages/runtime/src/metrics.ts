import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * An agent's metrics on its registry (served at `/metrics`), declared one per line:
 * `const m = metricsOn(registry); const switches = m.counter("bluegreen_…", "help", ["result"])`.
 */
export function metricsOn(registry: Registry) {
  return {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers: [registry] }),
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: [registry] }),
    histogram: <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      buckets: readonly number[],
    ) => new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [registry] }),
  };
}
