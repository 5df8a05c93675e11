import { describe, expect, it } from "vitest";
import { judge, type SloPolicy, worstOf } from "./verdict.ts";

const slo: SloPolicy = { max: 0.05, no_traffic: "inconclusive", min_requests: 10 };
const lenient: SloPolicy = { ...slo, no_traffic: "pass" };

describe("judge", () => {
  it("judges a value against max: above is a breach, at or below is ok", () => {
    expect(judge(slo, { kind: "value", value: 0.5, requests: 100 })).toEqual({
      verdict: "breach",
      value: 0.5,
    });
    expect(judge(slo, { kind: "value", value: 0.05, requests: 100 })).toEqual({
      verdict: "ok",
      value: 0.05,
    });
    expect(judge(slo, { kind: "value", value: 0 })).toEqual({ verdict: "ok", value: 0 });
  });

  it("treats no data, NaN and too little traffic by the no_traffic policy", () => {
    expect(judge(slo, { kind: "no_data" })).toEqual({ verdict: "inconclusive", reason: "no_data" });
    expect(judge(slo, { kind: "nan" })).toEqual({ verdict: "inconclusive", reason: "nan" });
    expect(judge(slo, { kind: "value", value: Number.NaN })).toEqual({
      verdict: "inconclusive",
      reason: "nan",
    });
    expect(judge(slo, { kind: "value", value: 1, requests: 3 })).toMatchObject({
      verdict: "inconclusive",
      reason: "low_traffic",
    });
    expect(judge(lenient, { kind: "no_data" })).toEqual({ verdict: "ok", noTraffic: "no_data" });
    expect(judge(lenient, { kind: "value", value: 1, requests: 3 })).toEqual({
      verdict: "ok",
      noTraffic: "low_traffic",
    });
  });

  it("never passes a check the source did not answer, whatever the policy", () => {
    for (const reason of ["unreachable", "timeout", "error"] as const) {
      expect(judge(lenient, { kind: "error", reason, detail: "x" })).toEqual({
        verdict: "inconclusive",
        reason,
        detail: "x",
      });
    }
  });

  it("judges an infinite quantile as a breach", () => {
    expect(judge(slo, { kind: "value", value: Number.POSITIVE_INFINITY }).verdict).toBe("breach");
  });
});

describe("worstOf", () => {
  it("lets any breach win, with the highest value", () => {
    expect(
      worstOf([
        { verdict: "ok", value: 0.01 },
        { verdict: "breach", value: 0.2, instance: "a" },
        { verdict: "inconclusive", reason: "timeout" },
        { verdict: "breach", value: 0.6, instance: "b" },
      ]),
    ).toEqual({ verdict: "breach", value: 0.6, instance: "b" });
  });

  it("is inconclusive when one node gave no answer and none breached", () => {
    expect(
      worstOf([
        { verdict: "ok", value: 0 },
        { verdict: "inconclusive", reason: "unreachable" },
      ]).verdict,
    ).toBe("inconclusive");
  });

  it("is inconclusive (no data) with nothing to combine", () => {
    expect(worstOf([])).toMatchObject({ verdict: "inconclusive", reason: "no_data" });
  });
});
