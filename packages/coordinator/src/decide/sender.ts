import type { Color } from "@bluegreen/contracts";
import type { ConsumedEvent } from "./inputs.ts";
import type { AgentSeen } from "./preflight.ts";

/**
 * Who may report on a node: a node event (progress, ready, failed, smoke) that says it comes
 * from a node agent (`source` = `bluegreen/node-agent/<agentId>`) counts only when that agent
 * serves the node — the node is one of the definition's nodes of the colour, and the agent's
 * heartbeat lists the service, the colour and (when it lists nodes) the node. Pure: the
 * shell reads the heartbeats and the definition and answers a refusal with `agent.rejected`
 * (BG_ERR_AGENT_NOT_SERVING), the deployment untouched.
 *
 * Events from other sources (the coordinator's own `deploy.failed`, simulators in tests) are
 * not node agents' word and are left to the rules that already apply to them; who may publish
 * on a service's subjects at all is NATS's to say (`bluegreen nats-config`).
 */

export const NODE_AGENT_SOURCE = "bluegreen/node-agent/";

const NODE_EVENTS: readonly string[] = [
  "bluegreen.deploy.progress",
  "bluegreen.deploy.ready",
  "bluegreen.deploy.failed",
  "bluegreen.smoke.passed",
  "bluegreen.smoke.failed",
];

export interface SenderFacts {
  /** The definition's nodes of each colour (`host:port`), undefined when it is not known. */
  nodesOf: (color: Color) => readonly string[] | undefined;
  /** The heartbeats seen; undefined when heartbeats are not required (nothing to check). */
  agents: readonly AgentSeen[] | undefined;
}

export type SenderVerdict =
  | { ok: true }
  /** No heartbeat from the agent yet: it may have just started; ask again shortly. */
  | { ok: false; unknownAgent: true; agentId: string; reason: string }
  | { ok: false; unknownAgent: false; agentId: string; reason: string };

/** The node and colour a node event is about, if it is one. */
export function nodeOfEvent(event: ConsumedEvent): { node: string; color: Color } | undefined {
  if (!NODE_EVENTS.includes(event.type)) return undefined;
  const data = event.data as { node?: unknown; color?: unknown };
  if (typeof data.node !== "string" || (data.color !== "blue" && data.color !== "green"))
    return undefined;
  return { node: data.node, color: data.color };
}

export function senderVerdict(event: ConsumedEvent, facts: SenderFacts): SenderVerdict {
  const about = nodeOfEvent(event);
  if (about === undefined || !event.source.startsWith(NODE_AGENT_SOURCE)) return { ok: true };
  const agentId = event.source.slice(NODE_AGENT_SOURCE.length);
  const refuse = (reason: string): SenderVerdict => ({
    ok: false,
    unknownAgent: false,
    agentId,
    reason,
  });
  const defined = facts.nodesOf(about.color);
  if (defined !== undefined && !defined.includes(about.node))
    return refuse(`${about.node} is not a ${about.color} node in the definition`);
  if (facts.agents === undefined) return { ok: true };
  const agent = facts.agents.find((a) => a.role === "node-agent" && a.agentId === agentId);
  if (agent === undefined)
    return { ok: false, unknownAgent: true, agentId, reason: `no heartbeat from ${agentId}` };
  if (!agent.services.includes(event.subject))
    return refuse(`${agentId} serves ${agent.services.join(", ") || "no service"}`);
  if (agent.color !== undefined && agent.color !== about.color)
    return refuse(`${agentId} serves the ${agent.color} colour`);
  const nodes = agent.nodes ?? [];
  if (nodes.length > 0 && !nodes.some((n) => n.node === about.node))
    return refuse(`${agentId} serves ${nodes.map((n) => n.node).join(", ")}`);
  return { ok: true };
}
