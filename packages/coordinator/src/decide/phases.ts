/**
 * The phases of a deployment. The phase is stored with the deployment in KV; `decide` is the
 * only place that moves a deployment from one phase to another.
 *
 *   requested → deploying → readiness → smoke → [awaiting_promotion] → switching → monitoring
 *             → succeeded | rolling_back → rolled_back | failed | aborted | rejected
 */
export const Phase = {
  /** Recorded; pre-flight and the service lock are still to come (or queued behind another). */
  requested: "requested",
  /** The node agents of the idle colour run the deploy steps. */
  deploying: "deploying",
  /** Every node finished its steps; waiting until every node answers its readiness path. */
  readiness: "readiness",
  /** Every node is ready; waiting for every node's smoke checks. */
  smoke: "smoke",
  /** Every node passed smoke; the definition (or the request) asks for a manual promotion. */
  awaiting_promotion: "awaiting_promotion",
  /** A fenced `switch.requested` to the new colour is in flight. */
  switching: "switching",
  /** The new colour serves; the monitor watches the SLOs. */
  monitoring: "monitoring",
  succeeded: "succeeded",
  /** A fenced `switch.requested` back to the previous colour is in flight. */
  rolling_back: "rolling_back",
  rolled_back: "rolled_back",
  failed: "failed",
  aborted: "aborted",
  rejected: "rejected",
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
export const PHASES = Object.values(Phase) as readonly Phase[];

export const TERMINAL_PHASES: readonly Phase[] = [
  Phase.succeeded,
  Phase.rolled_back,
  Phase.failed,
  Phase.aborted,
  Phase.rejected,
];

/** Phases in which the idle colour is being prepared and traffic has not moved. */
export const PREPARING_PHASES: readonly Phase[] = [
  Phase.deploying,
  Phase.readiness,
  Phase.smoke,
  Phase.awaiting_promotion,
];

export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

export function isPreparing(phase: Phase): boolean {
  return PREPARING_PHASES.includes(phase);
}

/** A deployment that holds (or waits for) the service lock. */
export function isInFlight(phase: Phase): boolean {
  return !isTerminal(phase);
}

/** Where a node of the idle colour stands; the deployment's phase follows the slowest node. */
export const NodeStage = {
  deploying: "deploying",
  readiness: "readiness",
  smoke: "smoke",
  passed: "passed",
} as const;
export type NodeStage = (typeof NodeStage)[keyof typeof NodeStage];
const STAGE_ORDER: readonly NodeStage[] = ["deploying", "readiness", "smoke", "passed"];

export function stageRank(stage: NodeStage): number {
  return STAGE_ORDER.indexOf(stage);
}

/** The later of two stages: events may arrive out of order, a node never goes backwards. */
export function laterStage(a: NodeStage, b: NodeStage): NodeStage {
  return stageRank(a) >= stageRank(b) ? a : b;
}

/** The preparing phase that the slowest node puts the deployment in. */
export function phaseOfStages(stages: readonly NodeStage[]): Phase {
  const slowest = stages.reduce<NodeStage>(
    (min, s) => (stageRank(s) < stageRank(min) ? s : min),
    NodeStage.passed,
  );
  switch (slowest) {
    case NodeStage.deploying:
      return Phase.deploying;
    case NodeStage.readiness:
      return Phase.readiness;
    case NodeStage.smoke:
      return Phase.smoke;
    case NodeStage.passed:
      return Phase.smoke;
  }
}
