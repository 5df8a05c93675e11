import { agentMain } from "@bluegreen/runtime";
import { NODE_AGENT_VERSION, startNodeAgentWork } from "./start.ts";

await agentMain({
  command: "bluegreen-node-agent",
  role: "node-agent",
  description: `Runs the bluegreen node agent: consumes deploy.started for the services and colour it serves,
runs the definition's deploy steps on each of its nodes (locally, or over SSH), waits for
readiness, runs the smoke checks, and reports every step as events.`,
  start: startNodeAgentWork,
  version: NODE_AGENT_VERSION,
  docs: "docs/node-agent.md",
});
