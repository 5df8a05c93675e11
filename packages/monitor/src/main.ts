import { agentMain } from "@bluegreen/runtime";
import { startMonitor, VERSION } from "./start.ts";

await agentMain({
  command: "bluegreen-monitor",
  role: "monitor",
  description: `Watches the SLOs of a service after each promotion (switch.done) and publishes
monitor.started, slo.warning, slo.breached, slo.inconclusive, monitor.passed.`,
  start: startMonitor,
  version: VERSION,
  docs: "docs/monitor.md",
});
