export {
  applyFaultsPatch,
  classifyPath,
  decideFault,
  type FaultDecision,
  type Faults,
  NO_FAULTS,
  parseFaultsPatch,
  RouteKind,
} from "./faults.ts";
export { type HealthState, healthState } from "./health.ts";
export { type AppMetrics, createMetrics, DURATION_BUCKETS } from "./metrics.ts";
export { type AppOptions, DEFAULT_VERSION, parseOptions, USAGE } from "./options.ts";
export { createSampleApp, type SampleApp, type SampleAppConfig } from "./server.ts";
export { isValidVersion, versionProblem } from "./version.ts";
