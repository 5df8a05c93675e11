import { createEvent, encodeEvent } from "@bluegreen/contracts";
import type { KV } from "nats";
import { describe, expect, it } from "vitest";
import {
  HEARTBEAT_READS_IN_FLIGHT,
  heartbeatKey,
  isAlive,
  isFresh,
  readHeartbeats,
} from "./heartbeat.ts";

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

/** The agents bucket in memory: keys() and get(), counting the gets in flight at once. */
class AgentsKv {
  readonly entries = new Map<string, { operation: string; value: Uint8Array }>();
  inFlight = 0;
  maxInFlight = 0;

  async keys() {
    const keys = [...this.entries.keys()].reverse(); // the server's order is not the key order
    return (async function* () {
      yield* keys;
    })();
  }

  async get(key: string) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.inFlight--;
    const entry = this.entries.get(key);
    return entry === undefined ? null : { key, ...entry };
  }
}

describe("readHeartbeats", () => {
  const beat = (agentId: string) =>
    encodeEvent(
      createEvent("agent.heartbeat", {
        service: "_",
        source: `bluegreen/node-agent/${agentId}`,
        data: {
          role: "node-agent",
          agentId,
          host: agentId,
          pid: 1,
          version: "0.1.0",
          state: "running",
          startedAt: "2026-11-26T10:00:00.000Z",
          intervalMs: 5_000,
          services: ["*"],
        },
      }),
    );

  it("reads every heartbeat of a large fleet, several gets at a time, in key order; skips deleted and unreadable ones", async () => {
    const kv = new AgentsKv();
    const ids = Array.from({ length: 150 }, (_, i) => `node-agent-${String(i).padStart(3, "0")}`);
    for (const id of ids)
      kv.entries.set(heartbeatKey("node-agent", id), {
        operation: "PUT",
        value: beat(id),
      });
    kv.entries.set("node-agent.gone", { operation: "DEL", value: new Uint8Array() });
    kv.entries.set("node-agent.garbled", {
      operation: "PUT",
      value: new TextEncoder().encode("{not json"),
    });

    const beats = await readHeartbeats(kv as unknown as KV);

    expect(beats.map((b) => b.data.agentId)).toEqual(ids);
    expect(kv.maxInFlight).toBeGreaterThan(1);
    expect(kv.maxInFlight).toBeLessThanOrEqual(HEARTBEAT_READS_IN_FLIGHT);
  });
});
