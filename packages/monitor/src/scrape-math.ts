import type { Slo } from "@bluegreen/contracts";
import { type Counts, counterDeltas, sum } from "./counters.ts";
import { type Bucket, histogramQuantile } from "./histogram.ts";
import type { Measurement } from "./measurement.ts";
import { parseSampleValue, type TextSample } from "./prom-text.ts";

/**
 * The direct-scrape maths: from two scrapes of a node's `/metrics`, the error ratio (counter
 * deltas by status) and latency quantiles (histogram bucket deltas). Pure.
 */

export type ScrapeSpec = NonNullable<Slo["scrape"]>;

/** The counters a spec needs from one scrape, keyed by family, then by series key. */
export type Snapshot = Readonly<Record<string, Counts>>;

/** Which family a spec reads: `counter:<name>:<label>` or `histogram:<name>`. */
export function familyKey(spec: ScrapeSpec): string {
  return "errorRatio" in spec
    ? `counter:${spec.errorRatio.counter}:${spec.errorRatio.statusLabel}`
    : `histogram:${spec.quantile.histogram}`;
}

/** The metric names to keep when parsing. */
export function metricNames(specs: readonly ScrapeSpec[]): Set<string> {
  return new Set(
    specs.map((s) => ("errorRatio" in s ? s.errorRatio.counter : `${s.quantile.histogram}_bucket`)),
  );
}

function add(into: Record<string, number>, key: string, value: number): void {
  if (Number.isFinite(value)) into[key] = (into[key] ?? 0) + value;
}

/**
 * Sums the samples each spec needs: a counter by its status label, a histogram's `_bucket`
 * series by `le` (all other labels summed away, as `sum by (le)` does).
 */
export function snapshotOf(samples: readonly TextSample[], specs: readonly ScrapeSpec[]): Snapshot {
  const out: Record<string, Record<string, number>> = {};
  for (const spec of specs) {
    const key = familyKey(spec);
    if (out[key] !== undefined) continue;
    const counts: Record<string, number> = {};
    if ("errorRatio" in spec) {
      const { counter, statusLabel } = spec.errorRatio;
      for (const s of samples) {
        if (s.name === counter) add(counts, s.labels[statusLabel] ?? "", s.value);
      }
    } else {
      const name = `${spec.quantile.histogram}_bucket`;
      for (const s of samples) {
        const le = s.labels.le;
        if (s.name !== name || le === undefined) continue;
        const bound = parseSampleValue(le);
        if (bound === undefined || Number.isNaN(bound)) continue;
        add(counts, bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound), s.value);
      }
    }
    out[key] = counts;
  }
  return out;
}

/** `=~` semantics: the pattern must match the whole label value. */
function statusMatcher(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

export function errorRatio(
  spec: Extract<ScrapeSpec, { errorRatio: unknown }>["errorRatio"],
  deltas: Counts,
): Measurement {
  const matcher = statusMatcher(spec.errorStatus);
  if (matcher === undefined) {
    return {
      kind: "error",
      reason: "error",
      detail: `errorStatus '${spec.errorStatus}' is not a valid regular expression`,
    };
  }
  const requests = sum(Object.values(deltas));
  if (requests <= 0) return { kind: "no_data", detail: `no ${spec.counter} increase` };
  const errors = sum(
    Object.entries(deltas)
      .filter(([status]) => matcher.test(status))
      .map(([, n]) => n),
  );
  return { kind: "value", value: errors / requests, requests };
}

export function quantile(
  spec: Extract<ScrapeSpec, { quantile: unknown }>["quantile"],
  deltas: Counts,
): Measurement {
  const buckets: Bucket[] = Object.entries(deltas).map(([le, count]) => ({
    le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le),
    count,
  }));
  const requests = deltas["+Inf"] ?? 0;
  if (requests <= 0) return { kind: "no_data", detail: `no ${spec.histogram} observations` };
  const value = histogramQuantile(spec.q, buckets);
  if (Number.isNaN(value))
    return { kind: "nan", detail: `${spec.histogram} has no usable buckets` };
  return { kind: "value", value, requests };
}

/** The measurement of one spec between two snapshots of one node. */
export function measureBetween(
  spec: ScrapeSpec,
  previous: Snapshot,
  current: Snapshot,
): Measurement {
  const key = familyKey(spec);
  const { deltas } = counterDeltas(previous[key] ?? {}, current[key] ?? {});
  return "errorRatio" in spec
    ? errorRatio(spec.errorRatio, deltas)
    : quantile(spec.quantile, deltas);
}
