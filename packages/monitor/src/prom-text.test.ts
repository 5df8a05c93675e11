import { describe, expect, it } from "vitest";
import { parsePromText, parseSampleValue } from "./prom-text.ts";

const EXPOSITION = `# HELP http_requests_total HTTP requests
# TYPE http_requests_total counter
http_requests_total{method="POST",path="/api/v1/inference",status="200"} 41
http_requests_total{method="POST",path="/api/v1/inference",status="500"} 9
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.005",method="GET",path="/health",status="200"} 3
http_request_duration_seconds_bucket{le="+Inf",method="GET",path="/health",status="200"} 4
http_request_duration_seconds_sum{method="GET",path="/health",status="200"} 0.0123
process_start_time_seconds 1700000000 1700000000123
`;

describe("parsePromText", () => {
  it("reads names, labels and values of every sample line", () => {
    const { samples, badLines } = parsePromText(EXPOSITION);
    expect(badLines).toBe(0);
    expect(samples).toHaveLength(6);
    expect(samples[1]).toEqual({
      name: "http_requests_total",
      labels: { method: "POST", path: "/api/v1/inference", status: "500" },
      value: 9,
    });
    expect(samples[3]?.labels.le).toBe("+Inf");
    expect(samples[5]).toEqual({
      name: "process_start_time_seconds",
      labels: {},
      value: 1700000000,
    });
  });

  it("keeps only the names asked for", () => {
    const { samples } = parsePromText(EXPOSITION, (n) => n === "http_requests_total");
    expect(samples.map((s) => s.name)).toEqual(["http_requests_total", "http_requests_total"]);
  });

  it("unescapes label values and accepts a trailing comma", () => {
    const { samples } = parsePromText('m{a="x\\"y\\\\z\\nw",b="{,}",} 1\n');
    expect(samples[0]?.labels).toEqual({ a: 'x"y\\z\nw', b: "{,}" });
  });

  it("counts unreadable lines instead of throwing", () => {
    const { samples, badLines } = parsePromText(
      'ok 1\nbroken{a="x" 2\nno_value\n3bad 1\nm{a=x} 1\nm 1 2 3\nm abc\n',
    );
    expect(samples).toHaveLength(1);
    expect(badLines).toBe(6);
  });
});

describe("parseSampleValue", () => {
  it("knows Prometheus' special values", () => {
    expect(parseSampleValue("NaN")).toBeNaN();
    expect(parseSampleValue("+Inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseSampleValue("-Inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue("1.5e3")).toBe(1500);
    expect(parseSampleValue("")).toBeUndefined();
    expect(parseSampleValue("0x10")).toBeUndefined();
  });
});
