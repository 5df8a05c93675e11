import { agentMain } from "@bluegreen/runtime";
import { startMonitor } from "./monitor.ts";

await agentMain({
  command: "bluegreen-monitor",
  role: "monitor",
  description: `Watches the SLOs of a service after each promotion (switch.done) and publishes
monitor.started, slo.warning, slo.breached, slo.inconclusive, monitor.passed.`,
  start: startMonitor,
  version: "0.1.0",
  docs: "docs/monitor.md",
});
