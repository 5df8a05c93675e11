import { createEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { heartbeatKey, isAlive, isFresh } from "./heartbeat.ts";

const at = (time: string, state = "running") =>
  createEvent("agent.heartbeat", {
    service: "_",
    source: "bluegreen/switcher/s1",
    time: new Date(time),
    data: {
      role: "switcher",
      agentId: "s1",
      host: "h",
      pid: 1,
      version: "0.1.0",
      state,
      startedAt: time,
      intervalMs: 5_000,
      services: ["emily"],
    },
  });

describe("heartbeats", () => {
  const now = Date.parse("2026-11-26T10:00:30.000Z");

  it("are fresh up to maxAge and stale after", () => {
    expect(isFresh(at("2026-11-26T10:00:00.000Z"), 30_000, now)).toBe(true);
    expect(isFresh(at("2026-11-26T09:59:59.999Z"), 30_000, now)).toBe(false);
  });

  it("from a stopped agent are fresh but not alive", () => {
    const last = at("2026-11-26T10:00:29.000Z", "stopped");
    expect(isFresh(last, 30_000, now)).toBe(true);
    expect(isAlive(last, 30_000, now)).toBe(false);
  });

  it("live under <role>.<agentId>", () => {
    expect(heartbeatKey("node-agent", "node-agent-emily-green")).toBe(
      "node-agent.node-agent-emily-green",
    );
  });
});
