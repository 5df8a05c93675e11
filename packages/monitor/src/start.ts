import { Buckets } from "@bluegreen/contracts";
import {
  type AgentContext,
  type AgentMainOptions,
  type StartedAgent,
  VERSION,
} from "@bluegreen/runtime";
import { createMonitorMetrics } from "./metrics.ts";
import { Monitor } from "./monitor.ts";
import { WatchStore } from "./store.ts";

/** The monitor's version: bluegreen's (the root package.json), as `--version` and the heartbeat say. */
export { VERSION };

/** Wiring: config → bus, the watch store, metrics → the monitor; the `start` of `runAgent`. */
export async function startMonitor(ctx: AgentContext<"monitor">): Promise<StartedAgent> {
  const monitor = new Monitor({
    config: ctx.config,
    bus: ctx.bus,
    store: new WatchStore(ctx.kv.watches, ctx.logger),
    definitions: ctx.definitions,
    nats: ctx.nc,
    metrics: createMonitorMetrics(ctx.metrics),
    logger: ctx.logger,
  });
  await monitor.start();
  ctx.logger.info(
    {
      services: ctx.config.services,
      bucket: Buckets.watches,
      watches: monitor.activeWatches().length,
    },
    "monitor ready",
  );
  return { stop: () => monitor.stop(), heartbeat: () => monitor.heartbeat() };
}

/** The agent's process entry: `bluegreen-monitor` (main.ts) and `bluegreen agent monitor`. */
export const MONITOR_MAIN: AgentMainOptions<"monitor"> = {
  command: "bluegreen-monitor",
  role: "monitor",
  description: `Watches the SLOs of a service after each promotion (switch.done) and publishes
monitor.started, slo.warning, slo.breached, slo.inconclusive, monitor.passed.`,
  start: startMonitor,
  version: VERSION,
  docs: "docs/monitor.md",
};
