import { hostname } from "node:os";
import {
  type AgentRole,
  type BgEvent,
  createEvent,
  type EventDataInput,
  encodeEvent,
  NO_SERVICE,
  parseEvent,
} from "@bluegreen/contracts";
import type { KV } from "nats";
import { keysOf } from "./kv.ts";
import type { Logger } from "./logger.ts";

type HeartbeatData = EventDataInput<"agent.heartbeat">;
export type HeartbeatEvent = BgEvent<"agent.heartbeat">;

export interface HeartbeatOptions {
  /** The agents bucket (`bluegreen_agents`). */
  kv: KV;
  role: AgentRole;
  agentId: string;
  intervalMs: number;
  /** `bluegreen/<role>/<agentId>`. */
  source: string;
  /** What the agent reports right now (services, colour, node health, leader, state…). */
  build?: () => Partial<HeartbeatData>;
  /** The agent's software version. */
  version?: string;
  logger?: Logger;
}

export interface Heartbeat {
  /** Writes one heartbeat now. */
  beat(): Promise<void>;
  /** Stops the timer and writes a last heartbeat with state "stopped". */
  stop(): Promise<void>;
}

/** The KV key of an agent's heartbeat. */
export function heartbeatKey(role: string, agentId: string): string {
  return `${role}.${agentId}`;
}

/**
 * Writes the agent's `agent.heartbeat` event to the agents bucket every interval. Heartbeats are
 * not audit material: they live in KV (history 1, max age 1 h), never in the stream.
 */
export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const key = heartbeatKey(opts.role, opts.agentId);
  const startedAt = new Date().toISOString();
  let stopped = false;
  let failing = false;

  const event = (override: Partial<HeartbeatData> = {}): HeartbeatEvent =>
    createEvent("agent.heartbeat", {
      service: NO_SERVICE,
      source: opts.source,
      data: {
        host: hostname().slice(0, 253),
        pid: process.pid,
        version: opts.version ?? "0.0.0",
        state: "running",
        services: [],
        ...opts.build?.(),
        ...override,
        role: opts.role,
        agentId: opts.agentId,
        startedAt,
        intervalMs: opts.intervalMs,
      },
    });

  const write = async (override?: Partial<HeartbeatData>): Promise<void> => {
    try {
      await opts.kv.put(key, encodeEvent(event(override) as BgEvent));
      if (failing) opts.logger?.info({ key }, "heartbeat written again");
      failing = false;
    } catch (err) {
      if (!failing) opts.logger?.warn({ err, key }, "heartbeat not written");
      failing = true;
    }
  };

  let inFlight: Promise<void> = write();
  const timer = setInterval(() => {
    inFlight = inFlight.then(() => (stopped ? undefined : write()));
  }, opts.intervalMs);

  return {
    beat: () => {
      inFlight = inFlight.then(() => write());
      return inFlight;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await inFlight;
      await write({ state: "stopped" });
    },
  };
}

/** Gets of heartbeat keys in flight at once (see `readHeartbeats`). */
export const HEARTBEAT_READS_IN_FLIGHT = 64;

/**
 * Every valid heartbeat in the agents bucket (anything unparseable is skipped), in key order.
 * The keys are read up to HEARTBEAT_READS_IN_FLIGHT at a time, not one after the other: a
 * fleet has an agent per host, and on a replicated bucket each get is a round trip of
 * milliseconds, so reading a thousand heartbeats in turn took half a second.
 */
export async function readHeartbeats(kv: KV): Promise<HeartbeatEvent[]> {
  const keys = await keysOf(kv);
  const out: HeartbeatEvent[] = [];
  for (let i = 0; i < keys.length; i += HEARTBEAT_READS_IN_FLIGHT) {
    const entries = await Promise.all(
      keys.slice(i, i + HEARTBEAT_READS_IN_FLIGHT).map((key) => kv.get(key)),
    );
    for (const entry of entries) {
      if (entry === null || entry.operation !== "PUT") continue;
      const parsed = parseEvent(entry.value, { expect: ["agent.heartbeat"] });
      if (parsed.ok) out.push(parsed.event);
    }
  }
  return out;
}

/** A heartbeat written less than `maxAgeMs` ago. */
export function isFresh(hb: HeartbeatEvent, maxAgeMs: number, now: number = Date.now()): boolean {
  const at = Date.parse(hb.time);
  return Number.isFinite(at) && now - at <= maxAgeMs;
}

/** Fresh, and not the last word of an agent that stopped. */
export function isAlive(hb: HeartbeatEvent, maxAgeMs: number, now: number = Date.now()): boolean {
  return isFresh(hb, maxAgeMs, now) && hb.data.state !== "stopped";
}
