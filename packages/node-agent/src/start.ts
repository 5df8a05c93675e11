import {
  type AgentContext,
  type AgentMainOptions,
  type RunAgentOptions,
  runAgent,
  VERSION,
} from "@bluegreen/runtime";
import { createNodeAgentMetrics } from "./metrics.ts";
import { NodeAgent } from "./node-agent.ts";
import { ResultStore } from "./store.ts";

/** The node agent's version: bluegreen's (the root package.json). */
export const NODE_AGENT_VERSION = VERSION;

export type StartNodeAgentOptions = Omit<
  RunAgentOptions<"node-agent">,
  "role" | "start" | "version"
>;

/** The agent's own work, started by the runtime's bootstrap once NATS and KV are ready. */
export async function startNodeAgentWork(ctx: AgentContext<"node-agent">) {
  const agent = new NodeAgent({
    config: ctx.config,
    bus: ctx.bus,
    definitions: ctx.definitions,
    results: new ResultStore(ctx.kv.results),
    logger: ctx.logger,
    metrics: createNodeAgentMetrics(ctx.metrics),
  });
  await agent.start();
  return { stop: () => agent.stop(), heartbeat: () => agent.heartbeat() };
}

/** Starts the node agent through the runtime's bootstrap (config, NATS, HTTP, heartbeat). */
export async function startNodeAgent(opts: StartNodeAgentOptions) {
  return runAgent({
    ...opts,
    role: "node-agent",
    version: NODE_AGENT_VERSION,
    start: startNodeAgentWork,
  });
}

/** The agent's process entry: `bluegreen-node-agent` (main.ts) and `bluegreen agent node-agent`. */
export const NODE_AGENT_MAIN: AgentMainOptions<"node-agent"> = {
  command: "bluegreen-node-agent",
  role: "node-agent",
  description: `Runs the bluegreen node agent: consumes deploy.started for the services and colour it serves,
runs the definition's deploy steps on each of its nodes (locally, or over SSH), waits for
readiness, runs the smoke checks, and reports every step as events.`,
  start: startNodeAgentWork,
  version: VERSION,
  docs: "docs/node-agent.md",
};
