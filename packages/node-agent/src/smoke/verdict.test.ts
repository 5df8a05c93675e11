import { describe, expect, it } from "vitest";
import { findSubsetMismatch } from "./json-subset.ts";
import { describeAnswer, type HttpAnswer, judgeHttpAnswer } from "./verdict.ts";

const ok = (body: unknown, status = 200, latencyMs = 5): HttpAnswer => ({
  kind: "response",
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
  latencyMs,
});

describe("findSubsetMismatch", () => {
  it("accepts extra keys in the answer", () => {
    expect(findSubsetMismatch({ status: "healthy" }, { status: "healthy", version: "v1" })).toBe(
      undefined,
    );
  });
  it("names the first differing path", () => {
    expect(findSubsetMismatch({ a: { b: 1 } }, { a: { b: 2 } })).toEqual({
      path: "a.b",
      expected: 1,
      actual: 2,
    });
    expect(findSubsetMismatch({ a: 1 }, {})).toEqual({ path: "a", expected: 1, actual: undefined });
    expect(findSubsetMismatch({ xs: [1, 2] }, { xs: [1, 3] })?.path).toBe("xs[1]");
    expect(findSubsetMismatch({ xs: [1] }, { xs: [1, 2] })?.path).toBe("xs");
  });
  it("compares types strictly", () => {
    expect(findSubsetMismatch({ n: 1 }, { n: "1" })?.path).toBe("n");
    expect(findSubsetMismatch({ o: {} }, { o: null })?.path).toBe("o");
  });
});

describe("judgeHttpAnswer", () => {
  const healthExpect = { status: 200, json: { status: "healthy" } };

  it("passes the guide's health check on a healthy answer", () => {
    expect(judgeHttpAnswer(healthExpect, ok({ status: "healthy", version: "v1.1" }))).toEqual({
      ok: true,
      status: 200,
    });
  });

  it("fails on a 5xx with the status in the message", () => {
    expect(judgeHttpAnswer({ status: 200 }, ok("boom", 500))).toEqual({
      ok: false,
      status: 500,
      message: "expected status 200, got 500",
    });
  });

  it("fails on wrong JSON, naming the key", () => {
    const verdict = judgeHttpAnswer(healthExpect, ok({ status: "degraded" }));
    expect(verdict.ok).toBe(false);
    expect(verdict.message).toBe('expected json status = "healthy", got "degraded"');
  });

  it("fails on a body that is not JSON when JSON is expected", () => {
    expect(judgeHttpAnswer(healthExpect, ok("<html>")).message).toMatch(/expected a JSON body/);
  });

  it("fails when the body lacks the expected substring", () => {
    expect(judgeHttpAnswer({ status: 200, bodyContains: "pong" }, ok("ping")).message).toBe(
      'expected the body to contain "pong"',
    );
  });

  it("fails when slower than the latency bound", () => {
    const verdict = judgeHttpAnswer({ status: 200, maxLatency: 100 }, ok("x", 200, 250.4));
    expect(verdict.message).toBe("took 250 ms, over the 100 ms latency bound");
  });

  it("lists every failed expectation", () => {
    const verdict = judgeHttpAnswer(
      { status: 200, json: { status: "healthy" }, maxLatency: 10 },
      ok({ status: "down" }, 503, 40),
    );
    expect(verdict.message?.split("; ")).toHaveLength(3);
  });

  it("fails with the reason when nothing came back", () => {
    expect(
      judgeHttpAnswer(
        { status: 200 },
        { kind: "error", reason: "no answer within 10000 ms", timedOut: true, latencyMs: 10_000 },
      ),
    ).toEqual({ ok: false, message: "no answer within 10000 ms" });
  });
});

describe("describeAnswer", () => {
  it("shows the status and a bounded, single-line body", () => {
    expect(describeAnswer(ok('{"status":\n"starting"}', 503))).toBe(
      'HTTP 503: {"status": "starting"}',
    );
    expect(describeAnswer(ok("", 204))).toBe("HTTP 204");
    expect(describeAnswer(ok("x".repeat(500)), 10)).toHaveLength("HTTP 200: ".length + 10);
  });
});
