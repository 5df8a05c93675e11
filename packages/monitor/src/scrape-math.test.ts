import { describe, expect, it } from "vitest";
import { parsePromText } from "./prom-text.ts";
import {
  errorRatio,
  familyKey,
  measureBetween,
  metricNames,
  quantile,
  type ScrapeSpec,
  snapshotOf,
} from "./scrape-math.ts";

const ratioSpec: ScrapeSpec = {
  errorRatio: { counter: "http_requests_total", statusLabel: "status", errorStatus: "5.." },
};
const p95Spec: ScrapeSpec = { quantile: { histogram: "http_request_duration_seconds", q: 0.95 } };

function scrape(text: string) {
  const names = metricNames([ratioSpec, p95Spec]);
  return snapshotOf(parsePromText(text, (n) => names.has(n)).samples, [ratioSpec, p95Spec]);
}

const before = scrape(`
http_requests_total{method="GET",path="/health",status="200"} 10
http_requests_total{method="POST",path="/api/v1/inference",status="200"} 90
http_request_duration_seconds_bucket{le="0.1",path="/health",status="200"} 10
http_request_duration_seconds_bucket{le="+Inf",path="/health",status="200"} 10
http_request_duration_seconds_bucket{le="0.1",path="/api/v1/inference",status="200"} 90
http_request_duration_seconds_bucket{le="1",path="/api/v1/inference",status="200"} 90
http_request_duration_seconds_bucket{le="+Inf",path="/api/v1/inference",status="200"} 90
`);

describe("snapshotOf", () => {
  it("sums the counter by status and the histogram by le, across other labels", () => {
    expect(before[familyKey(ratioSpec)]).toEqual({ "200": 100 });
    expect(before[familyKey(p95Spec)]).toEqual({ "0.1": 100, "1": 90, "+Inf": 100 });
  });
});

describe("measureBetween", () => {
  it("computes the error ratio of the requests between two scrapes", () => {
    const after = scrape(`
http_requests_total{method="GET",path="/health",status="200"} 20
http_requests_total{method="POST",path="/api/v1/inference",status="200"} 100
http_requests_total{method="POST",path="/api/v1/inference",status="500"} 20
http_requests_total{method="POST",path="/api/v1/inference",status="404"} 10
`);
    // 10 + 10 ok, 20 errors, 10 not found: 20 / 50.
    expect(measureBetween(ratioSpec, before, after)).toEqual({
      kind: "value",
      value: 0.4,
      requests: 50,
    });
  });

  it("computes a quantile from the bucket deltas, not the totals", () => {
    const after = scrape(`
http_request_duration_seconds_bucket{le="0.1",path="/api/v1/inference",status="200"} 90
http_request_duration_seconds_bucket{le="1",path="/api/v1/inference",status="200"} 100
http_request_duration_seconds_bucket{le="+Inf",path="/api/v1/inference",status="200"} 110
http_request_duration_seconds_bucket{le="0.1",path="/health",status="200"} 10
http_request_duration_seconds_bucket{le="+Inf",path="/health",status="200"} 10
`);
    // Since the baseline: 20 slow requests, 10 in (0.1, 1], 10 above 1 s: p95 is in +Inf → 1.
    const m = measureBetween(p95Spec, before, after);
    expect(m).toEqual({ kind: "value", value: 1, requests: 20 });
  });

  it("says no data when nothing was counted", () => {
    expect(measureBetween(ratioSpec, before, before).kind).toBe("no_data");
    expect(measureBetween(p95Spec, before, before).kind).toBe("no_data");
  });

  it("reads a restarted app's counters as the deltas", () => {
    const restarted = scrape(`
http_requests_total{method="POST",path="/api/v1/inference",status="500"} 3
http_requests_total{method="POST",path="/api/v1/inference",status="200"} 1
`);
    expect(measureBetween(ratioSpec, before, restarted)).toEqual({
      kind: "value",
      value: 0.75,
      requests: 4,
    });
  });
});

describe("errorRatio and quantile", () => {
  it("matches the whole status like PromQL =~", () => {
    const spec = { counter: "c", statusLabel: "status", errorStatus: "5.." };
    expect(errorRatio(spec, { "500": 1, "5000": 1, "200": 2 })).toMatchObject({ value: 0.25 });
  });

  it("reports a bad status pattern as an error, not a verdict", () => {
    const spec = { counter: "c", statusLabel: "status", errorStatus: "5((" };
    expect(errorRatio(spec, { "500": 1 })).toMatchObject({ kind: "error", reason: "error" });
  });

  it("is NaN-free: a histogram without +Inf observations is no data", () => {
    expect(quantile({ histogram: "h", q: 0.5 }, { "0.1": 0, "+Inf": 0 }).kind).toBe("no_data");
  });
});
