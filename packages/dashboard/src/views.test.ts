import { describe, expect, it } from "vitest";
import { fleetRow, parseActionRequest, parseScope, timelineRows, wantsEvent } from "./internal.ts";

const event = (type: string, time: string, data: unknown, deploymentid = "d-1") => ({
  id: `${type}-${time}`,
  type: `bluegreen.${type}`,
  time,
  subject: "emily",
  deploymentid,
  data,
});

describe("the timeline", () => {
  it("says what each step carried, with the time since the start and since the step before", () => {
    const rows = timelineRows([
      { seq: 1, event: event("deploy.requested", "2026-01-01T10:00:00.000Z", { version: "v2" }) },
      {
        seq: 2,
        event: event("deploy.progress", "2026-01-01T10:00:01.500Z", {
          node: "n1:80",
          step: 1,
          steps: 2,
          command: ["ctl", "start"],
          status: "failed",
          exitCode: 3,
          durationMs: 1400,
        }),
      },
      {
        seq: 3,
        event: event("deploy.ready", "2026-01-01T10:00:02.000Z", {
          node: "n1:80",
          attempts: 4,
          durationMs: 900,
        }),
      },
      {
        seq: 4,
        event: event("switch.done", "2026-01-01T10:00:02.250Z", {
          from: "blue",
          to: "green",
          reason: "promote",
          revision: 7,
          changed: true,
          timings: { probeMs: 3, reloadMs: 20, totalMs: 40 },
        }),
      },
    ]);
    expect(rows.map((r) => [r.name, r.sinceStartMs, r.sincePrevMs, r.tone])).toEqual([
      ["deploy.requested", 0, 0, "info"],
      ["deploy.progress", 1500, 1500, "bad"],
      ["deploy.ready", 2000, 500, "ok"],
      ["switch.done", 2250, 250, "ok"],
    ]);
    expect(rows[1]?.detail).toBe("n1:80 step 1/2 failed exit 3 in 1400 ms: ctl start");
    expect(rows[2]?.detail).toMatch(/after 4 readiness attempt/);
    expect(rows[3]?.detail).toBe("blue → green (promote) r7 total 40 ms: probe 3 ms, reload 20 ms");
  });
});

describe("what a page asks for", () => {
  it("scopes: fleet, agents, a service, a deployment; anything else is refused", () => {
    expect(parseScope(null)).toEqual({ page: "fleet" });
    expect(parseScope("service:emily")).toEqual({ page: "service", service: "emily" });
    expect(parseScope("deployment:emily/d-1")).toEqual({
      page: "deployment",
      service: "emily",
      deploymentId: "d-1",
    });
    expect(parseScope("service:Bad Name")).toBeUndefined();
    expect(parseScope("deployment:emily/../x")).toBeUndefined();
  });

  it("a deployment page shows its own events only", () => {
    const scope = parseScope("deployment:emily/d-1");
    if (scope === undefined) throw new Error("scope");
    expect(wantsEvent(scope, event("deploy.started", "2026-01-01T10:00:00Z", {}) as never)).toBe(
      true,
    );
    expect(
      wantsEvent(scope, event("deploy.started", "2026-01-01T10:00:00Z", {}, "d-2") as never),
    ).toBe(false);
  });

  it("an action request: one of three, a service, a deployment id, nothing else", () => {
    expect(
      parseActionRequest({ action: "promote", service: "emily", deploymentId: "d-1" }),
    ).toEqual({
      action: "promote",
      service: "emily",
      deploymentId: "d-1",
      reason: undefined,
    });
    expect(parseActionRequest({ action: "delete", service: "emily", deploymentId: "d-1" })).toMatch(
      /action/,
    );
    expect(
      parseActionRequest({ action: "abort", service: "emily", deploymentId: "d-1", by: "x" }),
    ).toMatch(/unknown/);
    expect(parseActionRequest("promote")).toMatch(/object/);
  });
});

describe("a fleet row's freeze", () => {
  const now = new Date("2026-11-26T10:00:00.000Z");
  const freeze = (scope: "service" | "all", by: string, until?: string) => ({
    scope,
    by,
    reason: `${by} said so`,
    at: "2026-11-26T09:00:00.000Z",
    ...(until === undefined ? {} : { until }),
  });
  const row = (service: string, freezes: [string, ReturnType<typeof freeze>][]) =>
    fleetRow({
      service,
      revision: 1,
      active: null,
      deployments: [],
      agents: [],
      lastEvent: undefined,
      freezes: new Map(freezes),
      now,
    }).freeze;

  it("is the service's own, or every service's, that holds now (the one lasting longest)", () => {
    expect(row("emily", [])).toBeNull();
    expect(
      row("emily", [["emily", freeze("service", "alice", "2026-11-26T11:00:00.000Z")]]),
    ).toEqual({
      scope: "service",
      by: "alice",
      reason: "alice said so",
      until: "2026-11-26T11:00:00.000Z",
    });
    expect(row("emily", [["_all", freeze("all", "bob")]])).toEqual({
      scope: "all",
      by: "bob",
      reason: "bob said so",
      until: null,
    });
    expect(
      row("emily", [
        ["emily", freeze("service", "alice", "2026-11-26T11:00:00.000Z")],
        ["_all", freeze("all", "bob", "2026-11-26T12:00:00.000Z")],
      ])?.by,
    ).toBe("bob");
  });

  it("leaves out an expired freeze and another service's", () => {
    expect(
      row("emily", [["emily", freeze("service", "alice", "2026-11-26T09:59:59.000Z")]]),
    ).toBeNull();
    expect(row("emily", [["_all", freeze("all", "bob", "2026-11-26T10:00:00.000Z")]])).toBeNull();
    expect(row("emily", [["frank", freeze("service", "carol")]])).toBeNull();
  });
});
