import { Counter, Histogram, type Registry } from "prom-client";
import type { NodeDeployObserver, NodeOutcome } from "./deploy-node.ts";

/** The node agent's own metrics, next to the process metrics the runtime registers. */
export interface NodeAgentMetrics {
  observer(service: string): NodeDeployObserver;
  deploy(service: string, outcome: NodeOutcome): void;
}

export function createNodeAgentMetrics(registry: Registry): NodeAgentMetrics {
  const steps = new Histogram({
    name: "bluegreen_node_agent_step_duration_seconds",
    help: "Duration of deploy steps, by service and how the step ended.",
    labelNames: ["service", "status"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const readiness = new Histogram({
    name: "bluegreen_node_agent_readiness_seconds",
    help: "Time from the last deploy step to a ready node (or to the readiness deadline).",
    labelNames: ["service", "ready"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const deploys = new Counter({
    name: "bluegreen_deploys_total",
    help: "Node deploys finished by this agent, by result (smoke_passed, smoke_failed, failed, aborted).",
    labelNames: ["service", "result"] as const,
    registers: [registry],
  });
  const smokeChecks = new Counter({
    name: "bluegreen_smoke_checks_total",
    help: "Smoke checks run by this agent, by result (passed, failed).",
    labelNames: ["service", "result"] as const,
    registers: [registry],
  });
  return {
    observer: (service) => ({
      step: (durationMs, status) => steps.observe({ service, status }, durationMs / 1000),
      readiness: (durationMs, ready) =>
        readiness.observe({ service, ready: String(ready) }, durationMs / 1000),
      smokeCheck: (_name, ok) => smokeChecks.inc({ service, result: ok ? "passed" : "failed" }),
    }),
    deploy: (service, outcome) => deploys.inc({ service, result: outcome }),
  };
}
