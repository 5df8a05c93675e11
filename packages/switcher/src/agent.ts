import type { AgentContext, StartedAgent } from "@bluegreen/runtime";
import { realPorts } from "./adapters.ts";
import { switchMetrics } from "./metrics.ts";
import { Switcher } from "./switcher.ts";

/** What `runAgent` starts for the switcher role: the real adapters wired to the agent. */
export async function startSwitcher(ctx: AgentContext<"switcher">): Promise<StartedAgent> {
  const switcher = new Switcher({
    config: ctx.config,
    bus: ctx.bus,
    definitions: ctx.definitions,
    ports: realPorts(ctx.kv.active, ctx.logger),
    metrics: switchMetrics(ctx.metrics),
    logger: ctx.logger,
  });
  await switcher.start();
  return {
    stop: () => switcher.stop(),
    heartbeat: () => ({ services: switcher.served() }),
  };
}
