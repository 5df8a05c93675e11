/** The monitor agent: SLO watches after a switch, over Prometheus or a direct scrape. */
export { type CounterDelta, type Counts, counterDeltas } from "./counters.ts";
export { type Bucket, histogramQuantile } from "./histogram.ts";
export type {
  Measurement,
  MetricSource,
  SourceFailure,
  SourceKind,
  Target,
} from "./measurement.ts";
export { createMonitorMetrics, type MonitorMetrics } from "./metrics.ts";
export { Monitor, type MonitorDeps, startMonitor, TERMINAL_EVENTS } from "./monitor.ts";
export { type Decision, onDeploymentEnded, onSwitchDone } from "./plan.ts";
export { parsePromText, type TextSample } from "./prom-text.ts";
export { nextCheckAt, windowDone } from "./schedule.ts";
export { measureBetween, snapshotOf } from "./scrape-math.ts";
export { createSource, PrometheusSource, readQueryAnswer, ScrapeSource } from "./sources/index.ts";
export { type Intent, type RoundOutcome, tallyRound } from "./tally.ts";
export { type CheckResult, InconclusiveReason, judge, Verdict, worstOf } from "./verdict.ts";
export { WatchRunner } from "./watch-runner.ts";
export { type WatchState, WatchStatus, watchStateSchema } from "./watch-state.ts";
export { WatchStore } from "./watch-store.ts";
