/** What tests need from inside the monitor (the public face is `index.ts`). */
export { type CounterDelta, type Counts, counterDeltas } from "./counters.ts";
export { nextCheckAt, windowDone } from "./decide/schedule.ts";
export { isWatching, newWatch, watchStateSchema } from "./decide/state.ts";
export { type Intent, type RoundOutcome, tallyRound } from "./decide/tally.ts";
export { type CheckResult, InconclusiveReason, judge, Verdict, worstOf } from "./decide/verdict.ts";
export {
  type Command,
  type Ctx,
  decide,
  type Input,
  type PendingEvent,
  type StopReason,
  startsWatch,
  type TargetMeasurement,
} from "./decide.ts";
export { Effects } from "./effects.ts";
export { type Bucket, histogramQuantile } from "./histogram.ts";
export { parsePromText, type TextSample } from "./prom-text.ts";
export { measureBetween, snapshotOf } from "./scrape-math.ts";
export {
  classifyFailure,
  createSource,
  httpGet,
  judgePool,
  NginxSource,
  PrometheusSource,
  readQueryAnswer,
  ScrapeSource,
  significantlyAbove,
  wilsonLower,
} from "./sources/index.ts";
export { WatchLoop } from "./watch-loop.ts";
