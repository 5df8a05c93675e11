import type { Color } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { ev, SERVICE } from "./fixtures.ts";
import type { ConsumedEvent } from "./inputs.ts";
import type { AgentSeen } from "./preflight.ts";
import { type SenderFacts, senderVerdict } from "./sender.ts";

// emily's green node agent serves green 10.0.0.11:8000; blue is 10.0.0.10:8000.
const NODES: Record<Color, string[]> = { blue: ["10.0.0.10:8000"], green: ["10.0.0.11:8000"] };
const agent = (over: Partial<AgentSeen> = {}): AgentSeen => ({
  role: "node-agent",
  agentId: "emily-green",
  services: [SERVICE],
  color: "green",
  nodes: [{ node: "10.0.0.11:8000", healthy: true }],
  lastSeen: new Date(0),
  ...over,
});
const facts = (agents: AgentSeen[] | undefined): SenderFacts => ({
  nodesOf: (color) => NODES[color],
  agents,
});
const smoke = (node: string, color: Color, source: string) => {
  const e = ev("smoke.passed", { node, color, version: "v2", durationMs: 1, checks: [] });
  return { ...e, source } as ConsumedEvent;
};
const from = (id: string) => `bluegreen/node-agent/${id}`;

describe("senderVerdict: a node event counts only from the agent serving that node", () => {
  const cases: [string, ConsumedEvent, SenderFacts, string][] = [
    ["its own node", smoke("10.0.0.11:8000", "green", from("emily-green")), facts([agent()]), "ok"],
    [
      "a node of the other colour",
      smoke("10.0.0.10:8000", "blue", from("emily-green")),
      facts([agent()]),
      "refused: emily-green serves the green colour",
    ],
    [
      "a node the definition does not list",
      smoke("10.9.9.9:8000", "green", from("emily-green")),
      facts([agent()]),
      "refused: 10.9.9.9:8000 is not a green node in the definition",
    ],
    [
      "another service's agent",
      smoke("10.0.0.11:8000", "green", from("shop-green")),
      facts([agent(), agent({ agentId: "shop-green", services: ["shop"] })]),
      "refused: shop-green serves shop",
    ],
    [
      "another node of the same colour",
      smoke("10.0.0.11:8000", "green", from("emily-green-2")),
      facts([
        agent({ agentId: "emily-green-2", nodes: [{ node: "10.0.0.12:8000", healthy: true }] }),
      ]),
      "refused: emily-green-2 serves 10.0.0.12:8000",
    ],
    [
      "an agent serving both colours, nodes not listed",
      smoke("10.0.0.10:8000", "blue", from("emily-both")),
      facts([agent({ agentId: "emily-both", color: undefined, nodes: [] })]),
      "ok",
    ],
    [
      "no heartbeat from the agent (yet)",
      smoke("10.0.0.11:8000", "green", from("emily-new")),
      facts([agent()]),
      "unknown agent: no heartbeat from emily-new",
    ],
    [
      "heartbeats not required: only the definition is checked",
      smoke("10.0.0.11:8000", "green", from("emily-new")),
      facts(undefined),
      "ok",
    ],
    [
      "not from a node agent (the coordinator's own, a simulator)",
      smoke("10.0.0.10:8000", "blue", "bluegreen/coordinator/c1"),
      facts([agent()]),
      "ok",
    ],
    [
      "not a node event",
      {
        ...ev("monitor.passed", {
          color: "green",
          checks: 3,
          warnings: 0,
          inconclusive: 0,
          durationMs: 1,
        }),
        source: from("emily-green"),
      } as ConsumedEvent,
      facts([]),
      "ok",
    ],
  ];
  it.each(cases)("%s", (_name, event, given, expected) => {
    const verdict = senderVerdict(event, given);
    const said = verdict.ok
      ? "ok"
      : `${verdict.unknownAgent ? "unknown agent" : "refused"}: ${verdict.reason}`;
    expect(said).toBe(expected);
  });
});
