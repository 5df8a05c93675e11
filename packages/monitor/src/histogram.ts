/**
 * `histogram_quantile` as Prometheus computes it: find the bucket the rank falls into and
 * interpolate linearly inside it. Buckets are cumulative counts by upper bound (`le`).
 */

export interface Bucket {
  /** Upper bound; `+Inf` for the last bucket. */
  readonly le: number;
  /** Cumulative count of observations ≤ le. */
  readonly count: number;
}

/**
 * The q-quantile of a histogram, or NaN when it holds no observations (or has no `+Inf`
 * bucket, or fewer than two buckets). A rank in the `+Inf` bucket answers the highest finite
 * bound, as Prometheus does.
 */
export function histogramQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const buckets = [...input].sort((a, b) => a.le - b.le);
  const last = buckets[buckets.length - 1];
  if (buckets.length < 2 || last === undefined || last.le !== Number.POSITIVE_INFINITY) {
    return Number.NaN;
  }
  // Counts must not fall with the bound (a torn scrape could make them); Prometheus fixes
  // the same way.
  let max = 0;
  const counts = buckets.map((b) => {
    max = Math.max(max, b.count);
    return max;
  });
  const observations = counts[counts.length - 1] ?? 0;
  if (!(observations > 0)) return Number.NaN;
  let rank = q * observations;
  const b = counts.findIndex((c) => c >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2]?.le ?? Number.NaN;
  const upper = buckets[b]?.le ?? Number.NaN;
  if (b === 0 && upper <= 0) return upper;
  let lower = 0;
  let inBucket = counts[b] ?? 0;
  if (b > 0) {
    const below = counts[b - 1] ?? 0;
    lower = buckets[b - 1]?.le ?? 0;
    inBucket -= below;
    rank -= below;
  }
  if (inBucket <= 0) return lower;
  return lower + (upper - lower) * (rank / inBucket);
}
