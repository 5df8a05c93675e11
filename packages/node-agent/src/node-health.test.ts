import { describe, expect, it } from "vitest";
import { healthOf } from "./node-health.ts";

describe("healthOf", () => {
  it("is healthy with the version the node reports", () => {
    expect(
      healthOf(
        "127.0.0.1:8000",
        {
          kind: "response",
          status: 200,
          body: '{"status":"healthy","version":"v1.1"}',
          latencyMs: 3,
        },
        200,
      ),
    ).toEqual({ node: "127.0.0.1:8000", healthy: true, version: "v1.1" });
  });
  it("is unhealthy on another status, still with the version", () => {
    expect(
      healthOf(
        "n:1",
        { kind: "response", status: 503, body: '{"version":"v1"}', latencyMs: 3 },
        200,
      ),
    ).toEqual({ node: "n:1", healthy: false, version: "v1" });
  });
  it("has no version when the body is not JSON", () => {
    expect(
      healthOf("n:1", { kind: "response", status: 200, body: "ok", latencyMs: 1 }, 200),
    ).toEqual({ node: "n:1", healthy: true });
  });
  it("is unhealthy when the node does not answer", () => {
    expect(
      healthOf(
        "n:1",
        { kind: "error", reason: "connection refused", timedOut: false, latencyMs: 1 },
        200,
      ),
    ).toEqual({ node: "n:1", healthy: false });
  });
});
