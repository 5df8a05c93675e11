import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The coordinator's Prometheus metrics (on its `/metrics`). */
export class CoordinatorMetrics {
  readonly deployments: Counter<"outcome">;
  readonly phaseDuration: Histogram<"phase">;
  readonly timeToRollback: Histogram;
  readonly handle: Histogram<"type">;
  readonly inFlight: Gauge;
  readonly leader: Gauge;
  readonly checkpoints: Counter;
  readonly checkpointCoveredSeq: Gauge;
  readonly checkpointFailures: Counter;

  constructor(registry: Registry) {
    this.deployments = new Counter({
      name: "bluegreen_coordinator_deployments_total",
      help: "Deployments that ended, by outcome (succeeded, rolled_back, failed, aborted, rejected)",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.phaseDuration = new Histogram({
      name: "bluegreen_coordinator_phase_duration_seconds",
      help: "Time deployments spent in each phase (observed when a deployment ends)",
      labelNames: ["phase"],
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
      registers: [registry],
    });
    this.timeToRollback = new Histogram({
      name: "bluegreen_coordinator_time_to_rollback_seconds",
      help: "From the breach (or rollback request) to traffic back on the previous colour",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    });
    this.handle = new Histogram({
      name: "bluegreen_coordinator_event_handle_seconds",
      help: "Time to handle one consumed event (load, decide, persist, carry out)",
      labelNames: ["type"],
      buckets: [
        0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04,
        0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1,
      ],
      registers: [registry],
    });
    this.inFlight = new Gauge({
      name: "bluegreen_coordinator_deployments_in_flight",
      help: "Deployments not yet ended, as this coordinator knows them",
      registers: [registry],
    });
    this.leader = new Gauge({
      name: "bluegreen_coordinator_leader",
      help: "1 while this coordinator holds the leader lease",
      registers: [registry],
    });
    this.checkpoints = new Counter({
      name: "bluegreen_coordinator_audit_checkpoints_total",
      help: "Signed audit checkpoints this coordinator stored",
      registers: [registry],
    });
    this.checkpointCoveredSeq = new Gauge({
      name: "bluegreen_coordinator_audit_covered_seq",
      help: "The last stream sequence covered by a checkpoint this coordinator stored",
      registers: [registry],
    });
    this.checkpointFailures = new Counter({
      name: "bluegreen_coordinator_audit_checkpoint_failures_total",
      help: "Attempts to sign an audit checkpoint that failed (the error is logged)",
      registers: [registry],
    });
  }
}
