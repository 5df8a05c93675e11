import type { DeploymentState } from "@bluegreen/coordinator";
import { describe, expect, it } from "vitest";
import { detailOf } from "./commands/history.ts";
import { neverDefined } from "./deployments.ts";

const at = "2026-11-26T10:00:00.000Z";
const base: DeploymentState = {
  v: 1,
  service: "emily",
  deploymentId: "d-1",
  version: "v1.1",
  phase: "rolled_back",
  requestId: "d-1.request",
  requestedAt: at,
  queued: false,
  manualPromotion: false,
  nodes: {},
  phaseSince: at,
  phases: {},
  seen: [],
  seq: 3,
  updatedAt: at,
  plan: {
    targetColor: "green",
    activeColor: "blue",
    previousVersion: "v1.0",
    activeRevision: 1,
    nodes: [{ host: "127.0.0.1", port: 8002 }],
    manualPromotion: false,
    timeouts: {
      deployMs: 1,
      readinessMs: 1,
      smokeMs: 1,
      promotionMs: 1,
      switchMs: 1,
      monitorWindowMs: 1,
      monitorIntervalMs: 1,
    },
  },
  outcome: { at, event: "deploy.rolled_back" },
};
const rollback = (r: Partial<NonNullable<DeploymentState["rollback"]>>): DeploymentState => ({
  ...base,
  rollback: { cause: "slo_breach", to: "blue", since: at, afterSuccess: false, ...r },
});

describe("history: why a deployment ended", () => {
  it.each([
    [
      "an SLO breach: the SLO, its value and threshold",
      rollback({ breach: { slo: "error_ratio", value: 0.1234567, threshold: 0.01 } }),
      "SLO breached: error_ratio 0.1235 > 0.01; back to blue",
    ],
    [
      "inconclusive too often, with the last reading",
      rollback({
        cause: "inconclusive_limit",
        breach: { slo: "p95_ms", value: null, threshold: 300 },
      }),
      "inconclusive: p95_ms no data > 300; back to blue",
    ],
    [
      "inconclusive too often, no reading",
      rollback({ cause: "inconclusive_limit" }),
      "SLO watch inconclusive too often; back to blue",
    ],
    [
      "a manual rollback: who and why",
      rollback({ cause: "manual", by: "alice", reason: "wrong tag" }),
      "rollback requested by alice: wrong tag; back to blue",
    ],
    [
      "a failure: its message",
      {
        ...base,
        phase: "failed",
        outcome: { at, event: "deploy.failed", message: "step 1 failed" },
      },
      "step 1 failed",
    ],
    [
      "a success: the colours",
      { ...base, phase: "succeeded", outcome: { at, event: "deploy.succeeded" } },
      "blue → green",
    ],
  ] as [string, DeploymentState, string][])("%s", (_name, d, expected) => {
    expect(detailOf(d)).toBe(expected);
  });

  it("a request for a service never defined is not a deployment (status and history skip it)", () => {
    const unknown: DeploymentState = {
      ...base,
      phase: "rejected",
      outcome: { at, event: "deploy.rejected", code: "BG_ERR_CONFIG_UNKNOWN_SERVICE" },
    };
    expect(neverDefined(unknown)).toBe(true);
    expect(
      neverDefined({
        ...unknown,
        outcome: { at, event: "deploy.rejected", code: "BG_ERR_DEPLOY_BUSY" },
      }),
    ).toBe(false);
  });
});
