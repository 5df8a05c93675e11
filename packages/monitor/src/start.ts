import { Buckets } from "@bluegreen/contracts";
import { type AgentContext, BLUEGREEN_VERSION, type StartedAgent } from "@bluegreen/runtime";
import { createMonitorMetrics } from "./metrics.ts";
import { Monitor } from "./monitor.ts";
import { WatchStore } from "./store.ts";

/** The monitor's version, as `--version` and the heartbeat say. */
/** The version of bluegreen (the root package.json's). */
export const VERSION = BLUEGREEN_VERSION;

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
