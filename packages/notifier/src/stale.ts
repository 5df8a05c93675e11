import type { EventDataInput } from "@bluegreen/contracts";
import { type HeartbeatEvent, isFresh } from "@bluegreen/runtime";

/**
 * Which agents went silent: pure. An agent whose last heartbeat is older than `afterMs` and
 * that did not say it stopped is stale; one `agent.stale` per silence, its id made of the agent
 * and its last heartbeat's time (so a restart or a second notifier announces it once).
 */
export interface StaleAgent {
  id: string;
  data: EventDataInput<"agent.stale">;
}

export function staleAgents(
  beats: readonly HeartbeatEvent[],
  afterMs: number,
  now: number,
): StaleAgent[] {
  return beats
    .filter((hb) => hb.data.state !== "stopped" && !isFresh(hb, afterMs, now))
    .map((hb) => {
      const at = Date.parse(hb.time);
      return {
        id: `stale-${hb.data.role}.${hb.data.agentId}-${at}`.slice(0, 128),
        data: {
          role: hb.data.role,
          agentId: hb.data.agentId,
          host: hb.data.host,
          services: hb.data.services,
          lastSeen: hb.time,
          silentMs: Math.max(0, now - at),
        },
      };
    });
}
