import {
  type AgentContext,
  BLUEGREEN_VERSION,
  type RunAgentOptions,
  runAgent,
} from "@bluegreen/runtime";
import { createNodeAgentMetrics } from "./metrics.ts";
import { NodeAgent } from "./node-agent.ts";
import { ResultStore } from "./store.ts";

/** The version of bluegreen (the root package.json's). */
export const NODE_AGENT_VERSION = BLUEGREEN_VERSION;

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
