import { agentMain } from "@bluegreen/runtime";
import { startCoordinator, VERSION } from "./start.ts";

await agentMain({
  command: "bluegreen-coordinator",
  role: "coordinator",
  description: `Runs the bluegreen coordinator: the deployment state machine (pre-flight, the service lock,
deploy, smoke, the fenced switch, the SLO watch, rollback). Several may run; one leads through
a lease in KV, the others stand by and take over when it stops.`,
  start: (ctx) => startCoordinator(ctx),
  version: VERSION,
  docs: "docs/coordinator.md",
});
