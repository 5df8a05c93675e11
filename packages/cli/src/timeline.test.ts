import { createEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { formatTimeline, summarize } from "./timeline.ts";

const at = new Date("2026-11-26T10:00:01.234Z");
const base = { service: "emily", source: "test", deploymentId: "d-1", time: at };

describe("timeline", () => {
  it("prints time, service, deployment, event and the key fields on one line", () => {
    const e = createEvent("switch.done", {
      ...base,
      data: {
        from: "blue",
        to: "green",
        changed: true,
        reason: "promote",
        revision: 8,
        timings: { totalMs: 49 },
      },
    });
    expect(formatTimeline(e)).toBe(
      "2026-11-26T10:00:01.234Z  emily         d-1                   switch.done                blue → green (promote, r8, reloaded, 49 ms)",
    );
  });

  it("says loudly when a failed rollback may leave traffic on a bad colour", () => {
    const e = createEvent("deploy.failed", {
      ...base,
      data: {
        stage: "rollback",
        error: {
          code: "BG_ERR_SWITCH_TARGET_NOT_READY",
          message: "blue is not ready",
          retryable: true,
        },
        trafficAtRisk: true,
      },
    });
    expect(summarize(e)).toMatch(
      /at rollback: BG_ERR_SWITCH_TARGET_NOT_READY: .*TRAFFIC MAY BE ON A BAD COLOUR/,
    );
  });

  it("names the failed smoke checks and the rollback's cause and breach", () => {
    const smoke = createEvent("smoke.failed", {
      ...base,
      data: {
        node: "10.0.0.11:8000",
        color: "green",
        version: "v1.1",
        durationMs: 5,
        checks: [
          { name: "health", ok: true, durationMs: 1 },
          { name: "inference", ok: false, durationMs: 2, message: "expected status 200, got 500" },
        ],
        error: { code: "BG_ERR_SMOKE_FAILED", message: "smoke failed", retryable: false },
      },
    });
    expect(summarize(smoke)).toBe(
      "10.0.0.11:8000 (green v1.1): inference: expected status 200, got 500",
    );
    const back = createEvent("deploy.rolled_back", {
      ...base,
      data: {
        version: "v1.2",
        from: "blue",
        to: "green",
        restoredVersion: "v1.1",
        cause: "slo_breach",
        breach: { slo: "error-ratio", value: 0.5, threshold: 0.05 },
        timeToRollbackMs: 2_350,
      },
    });
    expect(summarize(back)).toBe(
      "blue → green (v1.1), cause slo_breach; error-ratio = 0.5 > 0.05; in 2350 ms",
    );
  });
});
