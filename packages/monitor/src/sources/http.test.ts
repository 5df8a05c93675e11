import { describe, expect, it } from "vitest";
import { classifyFailure } from "./http.ts";
import { metricsUrl } from "./scrape.ts";

describe("classifyFailure", () => {
  it("sorts failures into timeout, unreachable and error", () => {
    const timeout = Object.assign(new Error("aborted"), { name: "TimeoutError" });
    expect(classifyFailure(timeout, 500)).toEqual({
      reason: "timeout",
      detail: "no answer within 500 ms",
    });
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9090"), {
        code: "ECONNREFUSED",
      }),
    });
    expect(classifyFailure(refused, 500)).toEqual({
      reason: "unreachable",
      detail: "connect ECONNREFUSED 127.0.0.1:9090",
    });
    expect(classifyFailure(new Error("something else"), 500)).toEqual({
      reason: "error",
      detail: "something else",
    });
  });
});

describe("metricsUrl", () => {
  it("builds the node's metrics URL", () => {
    expect(metricsUrl("127.0.0.1:8000", "/metrics")).toBe("http://127.0.0.1:8000/metrics");
    expect(metricsUrl("::1:8000", "/metrics")).toBe("http://[::1]:8000/metrics");
  });
});
