/** The monitor agent: SLO watches after a switch, over Prometheus or a direct scrape. */
export { type WatchState, WatchStatus } from "./decide/state.ts";
export type {
  Measurement,
  MetricSource,
  SourceFailure,
  SourceKind,
  Target,
} from "./measurement.ts";
export { createMonitorMetrics, type MonitorMetrics } from "./metrics.ts";
export { Monitor, type MonitorDeps, TERMINAL_EVENTS } from "./monitor.ts";
export { MONITOR_MAIN, startMonitor, VERSION } from "./start.ts";
export { WatchStore } from "./store.ts";
