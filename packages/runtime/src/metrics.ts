import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * An agent's metrics on its registry (served at `/metrics`), one line each, their help texts
 * in one table beside them:
 *
 *   const m = metricsOn(registry, HELP);
 *   const switches = m.counter("bluegreen_switches_total", ["result"]);
 */
export function metricsOn<H extends Record<string, string>>(registry: Registry, help: H) {
  type Name = keyof H & string;
  const base = <L extends string>(name: Name, labelNames: readonly L[]) => ({
    name,
    help: help[name] as string,
    labelNames,
    registers: [registry],
  });
  return {
    counter: <L extends string>(name: Name, labelNames: readonly L[] = []) =>
      new Counter<L>(base(name, labelNames)),
    gauge: <L extends string>(name: Name, labelNames: readonly L[] = []) =>
      new Gauge<L>(base(name, labelNames)),
    histogram: <L extends string>(
      name: Name,
      labelNames: readonly L[],
      buckets: readonly number[],
    ) => new Histogram<L>({ ...base(name, labelNames), buckets: [...buckets] }),
  };
}
