import { describe, expect, it } from "vitest";
import { judge } from "../decide/verdict.ts";
import { judgePool, significantlyAbove, wilsonLower } from "./nginx.ts";

const pool = (statuses: Record<string, number>, latencies: number[] = [], probes = 0) => {
  const n = Object.values(statuses).reduce((a, b) => a + b, 0);
  return { statuses: new Map(Object.entries(statuses)), latencies, real: n - probes, probes };
};
const slo = { max: 0.05, no_traffic: "inconclusive" as const, min_requests: 3 };

describe("the nginx source's confidence rule (Wilson score lower bound, one-sided 99.5 %)", () => {
  it("bounds the error ratio from below", () => {
    expect(wilsonLower(0, 100)).toBe(0);
    expect(wilsonLower(1, 3)).toBeCloseTo(0.0405, 3);
    expect(wilsonLower(3, 3)).toBeCloseTo(0.311, 2);
    expect(wilsonLower(50, 100)).toBeGreaterThan(0.37);
  });

  it("one 500 in three requests is not a breach of a 5 % SLO; three in three is", () => {
    const one = judgePool({ errorRatio: { errorStatus: "5.." } }, 0.05, pool({ 200: 2, 500: 1 }));
    expect(one).toMatchObject({ value: 1 / 3, requests: 3, significant: false });
    expect(judge(slo, one ?? { kind: "no_data" }).verdict).toBe("ok");
    const three = judgePool({ errorRatio: { errorStatus: "5.." } }, 0.05, pool({ 503: 3 }));
    expect(judge(slo, three ?? { kind: "no_data" }).verdict).toBe("breach");
  });

  it("a steady 1 % error rate is never significantly above 5 %", () => {
    for (const n of [3, 10, 50, 100, 1000, 10_000])
      expect(significantlyAbove(Math.ceil(n * 0.01), n, 0.05)).toBe(false);
  });

  it("counts probes apart and matches statuses in full", () => {
    const m = judgePool(
      { errorRatio: { errorStatus: "50[23]" } },
      0.05,
      pool({ 200: 8, 502: 1, 500: 1 }, [], 4),
    );
    expect(m).toMatchObject({ value: 0.1, requests: 10, probes: 4 });
  });

  it("a latency quantile breaches when more than 1 − q of the requests are slower than max", () => {
    const fast = Array.from({ length: 100 }, () => 0.01);
    const slow = Array.from({ length: 100 }, (_, i) => (i < 50 ? 3 : 0.01));
    const q = { quantile: { q: 0.95 } };
    expect(judgePool(q, 2, pool({ 200: 100 }, fast))).toMatchObject({
      value: 0.01,
      significant: false,
    });
    expect(judgePool(q, 2, pool({ 200: 100 }, slow))).toMatchObject({
      value: 3,
      significant: true,
    });
  });

  it("no request: nothing to judge", () => {
    expect(judgePool({ errorRatio: { errorStatus: "5.." } }, 0.05, pool({}))).toBeUndefined();
  });
});
