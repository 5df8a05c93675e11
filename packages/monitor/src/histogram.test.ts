import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bucket, histogramQuantile } from "./histogram.ts";

const INF = Number.POSITIVE_INFINITY;
const h = (...pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

describe("histogramQuantile", () => {
  it("interpolates linearly inside the bucket the rank falls into", () => {
    // 100 observations: 50 ≤ 0.1, 90 ≤ 0.5, all ≤ 1.
    const buckets = h([0.1, 50], [0.5, 90], [1, 100], [INF, 100]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.1 + 0.4 * (20 / 40));
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(0.5 + 0.5 * (5 / 10));
  });

  it("starts the first bucket at zero", () => {
    expect(histogramQuantile(0.5, h([0.2, 10], [INF, 10]))).toBeCloseTo(0.1);
  });

  it("answers the highest finite bound when the rank is in the +Inf bucket", () => {
    expect(histogramQuantile(0.99, h([0.1, 10], [5, 50], [INF, 100]))).toBe(5);
  });

  it("is NaN without observations or without a +Inf bucket", () => {
    expect(histogramQuantile(0.5, h([0.1, 0], [INF, 0]))).toBeNaN();
    expect(histogramQuantile(0.5, h([0.1, 3], [1, 5]))).toBeNaN();
    expect(histogramQuantile(0.5, [])).toBeNaN();
  });

  it("sorts unordered buckets and repairs non-monotonic counts", () => {
    expect(histogramQuantile(0.5, h([INF, 10], [1, 10], [0.5, 4]))).toBeCloseTo(
      0.5 + 0.5 * (1 / 6),
    );
    expect(histogramQuantile(0.5, h([0.5, 6], [1, 5], [INF, 10]))).toBeCloseTo(0.5 * (5 / 6));
  });

  it("is monotonic in q and stays within the finite bounds", () => {
    const bounds = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
    fc.assert(
      fc.property(
        fc.array(fc.nat(50), { minLength: bounds.length + 1, maxLength: bounds.length + 1 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (perBucket, q1, q2) => {
          let running = 0;
          const buckets = [...bounds, INF].map((le, i) => {
            running += perBucket[i] ?? 0;
            return { le, count: running };
          });
          const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
          const a = histogramQuantile(lo, buckets);
          const b = histogramQuantile(hi, buckets);
          if (running === 0) return Number.isNaN(a) && Number.isNaN(b);
          return a <= b + 1e-12 && a >= 0 && b <= 5;
        },
      ),
    );
  });
});
